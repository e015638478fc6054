using System.Diagnostics;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Discrete.Search;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;

namespace FederatedPrompts.Client.Jobs;

/// <summary>
/// FedDTPT on the client: search the global token prompt through the coordinator's inference service (labels only),
/// with the downloaded small model proposing tokens and the coordinator's public examples mixed into every batch.
/// </summary>
public sealed class DiscreteLocalJob(RunTask task, Limits? limits = null)
{
    public LocalResult Run(RoundTaskReply round, Inference.InferenceClient inference, IProgress<IterationRecord>? progress, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        var work = round.Work.Discrete;
        var global = PromptMessages.ToDiscretePrompt(round.GlobalPrompt);
        if (global.TokenizerIdentity != task.Tokenizer.Identity)
            throw new InvalidDataException($"the global prompt uses tokenizer {global.TokenizerIdentity}, not the downloaded model's {task.Tokenizer.Identity}");
        var blackBox = new RemoteBlackBoxClassifier(inference, round.RunId, task.Tokenizer, work.QueryBudget, cancel, limits);
        var options = new DiscreteSearchOptions
        {
            Iterations = work.Iterations, PositionsPerIteration = work.PositionsPerIteration, CandidatesPerPosition = work.CandidatesPerPosition,
            LocalBatchSize = work.LocalBatchSize, PublicPerLabel = task.PublicExamples is null ? 0 : work.PublicPerLabel,
            QueryBudget = work.QueryBudget, UseFeedback = work.UseFeedback, Seed = round.Work.Seed,
        };
        var neighbours = work.NeighbourEmbeddings is { Length: > 0 } space ? TokenSpaces.Create(space, task.Model, task.Tokenizer) : null;
        var search = new DiscretePromptSearch(blackBox, new TokenProposer(task.Model, task.Tokenizer, neighbourSpace: neighbours), options);
        var result = search.Run(global.TokenIds, task.PrivateData, task.PublicExamples ?? task.PrivateData, progress);
        var metrics = new LocalMetrics
        {
            AccuracyBefore = result.Trajectory.Count > 0 ? result.Trajectory[0].AccuracyBefore : 0,
            AccuracyAfter = result.Trajectory.Count > 0 ? result.Trajectory[^1].AccuracyAfter : 0,
            Steps = result.Trajectory.Count, Queries = blackBox.Queries, TokensSent = blackBox.TokensSent, Seconds = watch.Elapsed.TotalSeconds,
        };
        var prompt = new DiscretePrompt(result.Prompt, task.Tokenizer.Identity, task.Tokenizer.Decode(result.Prompt));
        return new LocalResult(PromptMessages.ToMessage(prompt), metrics, null);
    }
}
