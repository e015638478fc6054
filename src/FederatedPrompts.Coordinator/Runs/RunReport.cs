using System.Text.Json;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Protocol.V1;

namespace FederatedPrompts.Coordinator.Runs;

/// <summary>
/// A run's report as JSON: per round (sampled, uploads, bytes uploaded, clients' local accuracy, held-out accuracy of
/// the global prompt, aggregation notes), per client (examples, updates, ε spent, inference queries), and the transfer.
/// Built from the store, so it is the same before and after a restart.
/// </summary>
public static class RunReport
{
    public static int PromptLength(PromptValue prompt) => prompt.KindCase == PromptValue.KindOneofCase.Soft
        ? prompt.Soft.Length
        : prompt.Discrete.TokenIds.Count;

    public static string Json(RunSnapshot snapshot, CoordinatorStore store)
    {
        var run = snapshot.Run;
        var queries = store.QueriesPerClient(run.RunId);
        var (finalPrompt, transferJson) = store.FinalResult(run.RunId);
        var report = new
        {
            run_id = run.RunId,
            name = run.Config.Name,
            mode = run.Config.Mode,
            strategy = run.Config.Strategy,
            state = run.State.ToString().ToLowerInvariant(),
            error = run.Error,
            total_rounds = run.Config.Rounds,
            initial_prompt_length = snapshot.Rounds.Count > 0 ? PromptLength(snapshot.Rounds[0].PromptIn) : (int?)null,
            rounds = snapshot.Rounds.Select(r =>
            {
                var updates = snapshot.Updates.Where(u => u.Round == r.Round).ToList();
                return new
                {
                    round = r.Round,
                    state = r.State.ToString().ToLowerInvariant(),
                    sampled = r.Sampled,
                    uploads = updates.Count,
                    mean_upload_bytes = updates.Count == 0 ? (double?)null : updates.Average(u => (double)u.Bytes),
                    mean_local_accuracy_before = updates.Count == 0 ? (double?)null : updates.Average(u => u.Metrics.AccuracyBefore),
                    mean_local_accuracy_after = updates.Count == 0 ? (double?)null : updates.Average(u => u.Metrics.AccuracyAfter),
                    mean_local_seconds = updates.Count == 0 ? (double?)null : updates.Average(u => u.Metrics.Seconds),
                    accuracy = r.Accuracy,
                    prompt_length = r.PromptOut is { } p ? PromptLength(p) : (int?)null,
                    seconds = r.ClosedAt is { } closed ? (closed - r.OpenedAt).TotalSeconds : (double?)null,
                    notes = r.NotesJson is { } notes ? JsonDocument.Parse(notes).RootElement : (JsonElement?)null,
                };
            }).ToList(),
            clients = snapshot.Clients.Select(c =>
            {
                var updates = snapshot.Updates.Where(u => u.ClientId == c.ClientId).ToList();
                return new
                {
                    client_id = c.ClientId,
                    example_count = c.ExampleCount,
                    updates = updates.Count,
                    epsilon_spent = updates.Select(u => u.Privacy?.EpsilonTotal).Max(),
                    delta = updates.Select(u => u.Privacy?.Delta).LastOrDefault(),
                    inference_queries = queries.GetValueOrDefault(c.ClientId),
                    last_seen = c.LastSeen,
                    activity = c.Activity,
                };
            }).ToList(),
            transfer = transferJson is null ? (JsonElement?)null : JsonDocument.Parse(transferJson).RootElement,
            final_prompt_length = finalPrompt is null ? (int?)null : PromptLength(finalPrompt),
        };
        return JsonSerializer.Serialize(report, RunConfig.Json);
    }
}
