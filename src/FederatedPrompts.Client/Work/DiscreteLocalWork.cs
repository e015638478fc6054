using System.Diagnostics;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Discrete.Search;

namespace FederatedPrompts.Client.Work;

/// <summary>
/// FedDTPT on the client: search the global token prompt through the coordinator's inference service (labels only),
/// with the downloaded small model proposing tokens and the coordinator's public examples mixed into every batch.
/// </summary>
public sealed class DiscreteLocalWork(TaskDataset privateData, IModelLoader? models = null) : ILocalWork
{
    public PromptMode Mode => PromptMode.Discrete;
    public int ExampleCount => privateData.Count;
    public bool UsesModel => true;

    public ILocalRun Open(LocalRunContext run) => new Run(RunTask.Open(run, privateData, models ?? OwnModels.Instance), run);

    sealed class Run(RunTask task, LocalRunContext run) : ILocalRun
    {
        public LocalUpdate Train(RoundAssignment round, CancellationToken cancel)
        {
            var watch = Stopwatch.StartNew();
            var work = (DiscreteWorkSettings)round.Work;
            var global = work.GlobalPrompt;
            if (global.TokenizerIdentity != task.Tokenizer.Identity)
                throw new InvalidDataException($"the global prompt uses tokenizer {global.TokenizerIdentity}, not the downloaded model's {task.Tokenizer.Identity}");
            var blackBox = run.BlackBox(task.Tokenizer, work.QueryBudget, cancel);
            var options = new DiscreteSearchOptions
            {
                Iterations = work.Iterations, PositionsPerIteration = work.PositionsPerIteration, CandidatesPerPosition = work.CandidatesPerPosition,
                LocalBatchSize = work.LocalBatchSize, PublicPerLabel = task.PublicExamples is null ? 0 : work.PublicPerLabel,
                QueryBudget = work.QueryBudget, UseFeedback = work.UseFeedback, Seed = round.Seed,
            };
            var neighbours = work.NeighbourEmbeddings is { } space ? TokenSpaces.Create(space, task.Model, task.Tokenizer) : null;
            var search = new DiscretePromptSearch(blackBox, new TokenProposer(task.Model, task.Tokenizer, neighbourSpace: neighbours), options);
            var result = search.Run(global.TokenIds, task.PrivateData, task.PublicExamples ?? task.PrivateData);
            var metrics = new LocalWorkMetrics(
                AccuracyBefore: result.Trajectory.Count > 0 ? result.Trajectory[0].AccuracyBefore : 0,
                AccuracyAfter: result.Trajectory.Count > 0 ? result.Trajectory[^1].AccuracyAfter : 0,
                FinalLoss: 0, Steps: result.Trajectory.Count, blackBox.Queries, blackBox.TokensSent, watch.Elapsed.TotalSeconds);
            var statistics = new SearchStatistics(result.Accepted.Count, result.Memory.Entries.Count, result.Memory.Entries.Count(e => e.AccuracyChange != 0));
            return new DiscreteUpdate(new DiscretePrompt(result.Prompt, task.Tokenizer.Identity, task.Tokenizer.Decode(result.Prompt)), metrics, statistics);
        }

        public void Dispose() => task.Dispose();
    }
}
