using System.Text.Json;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Runs;

/// <summary>
/// A run's report as JSON: per round and mode (uploads, bytes uploaded, clients' local accuracy, held-out accuracy of
/// the global prompt, aggregation notes), per client (mode, examples, updates, ε spent, inference queries), and per mode
/// the published result (with POST's transfer). Built from the store, so it is the same before and after a restart, and
/// without the models.
/// </summary>
public static class RunReport
{
    public static string Json(RunSnapshot snapshot, CoordinatorStore store)
    {
        var run = snapshot.Run;
        var queries = store.QueriesPerClient(run.RunId);
        var results = store.Results(run.RunId).ToDictionary(r => r.Mode);
        var report = new
        {
            run_id = run.RunId,
            name = run.Config.Name,
            mode = run.Config.Mode,
            state = run.State.ToString().ToLowerInvariant(),
            error = run.Error,
            total_rounds = run.Config.Rounds,
            modes = run.Config.Modes.ToDictionary(Prompt.NameOf, m => new
            {
                strategy = run.Config.StrategyFor(m),
                initial_prompt_length = snapshot.Rounds.Count > 0 ? snapshot.Rounds[0].Modes[m].PromptIn.Length : (int?)null,
                final_prompt_length = results.TryGetValue(m, out var result) ? result.Prompt.Length : (int?)null,
                transfer = result?.TransferJson is { } transfer ? JsonDocument.Parse(transfer).RootElement : (JsonElement?)null,
            }),
            rounds = snapshot.Rounds.Select(r => new
            {
                round = r.Round,
                state = r.State.ToString().ToLowerInvariant(),
                sampled = r.Sampled,
                seconds = r.ClosedAt is { } closed ? (closed - r.OpenedAt).TotalSeconds : (double?)null,
                modes = r.Modes.ToDictionary(p => Prompt.NameOf(p.Key), p =>
                {
                    var updates = snapshot.Updates.Where(u => u.Round == r.Round && u.Mode == p.Key).ToList();
                    return new
                    {
                        uploads = updates.Count,
                        mean_upload_bytes = updates.Count == 0 ? (double?)null : updates.Average(u => (double)u.Bytes),
                        mean_local_accuracy_before = updates.Count == 0 ? (double?)null : updates.Average(u => u.Metrics.AccuracyBefore),
                        mean_local_accuracy_after = updates.Count == 0 ? (double?)null : updates.Average(u => u.Metrics.AccuracyAfter),
                        mean_local_seconds = updates.Count == 0 ? (double?)null : updates.Average(u => u.Metrics.Seconds),
                        accuracy = p.Value.Accuracy,
                        prompt_length = p.Value.PromptOut?.Length,
                        notes = p.Value.NotesJson is { } notes ? JsonDocument.Parse(notes).RootElement : (JsonElement?)null,
                    };
                }),
            }).ToList(),
            clients = snapshot.Clients.Select(c =>
            {
                var updates = snapshot.Updates.Where(u => u.ClientId == c.ClientId).ToList();
                return new
                {
                    client_id = c.ClientId,
                    mode = Prompt.NameOf(c.Mode),
                    example_count = c.ExampleCount,
                    updates = updates.Count,
                    epsilon_spent = updates.Select(u => u.Privacy?.EpsilonTotal).Max(),
                    delta = updates.Select(u => u.Privacy?.Delta).LastOrDefault(),
                    inference_queries = queries.GetValueOrDefault(c.ClientId),
                    last_seen = c.LastSeen,
                    activity = c.Activity,
                };
            }).ToList(),
        };
        return JsonSerializer.Serialize(report, RunConfig.Json);
    }
}
