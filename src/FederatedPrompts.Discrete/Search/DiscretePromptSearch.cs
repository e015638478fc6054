using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Discrete.Proposal;

namespace FederatedPrompts.Discrete.Search;

/// <summary>
/// FedDTPT's client step: improve the global discrete prompt through a black-box classifier using only its label
/// answers. Each iteration draws an evaluation batch (<see cref="EvaluationBatches"/>), measures the current prompt
/// on it, then for each of a few seeded positions evaluates candidates from the proposer (ranked by the
/// <see cref="FeedbackMemory"/>, or shuffled when feedback is off). A candidate replaces the token only if it raises
/// accuracy on that batch above the current prompt's; later candidates at the same position compete with the
/// improved prompt. Every evaluation's change is recorded in the memory. The search stops after its iterations or
/// at the first evaluation its own budget, or the black box's, does not allow; what was accepted until then is kept.
/// Everything random comes from one <see cref="Random"/> seeded by the options, so a run is reproducible.
/// </summary>
public sealed class DiscretePromptSearch(IBlackBoxClassifier blackBox, ITokenProposer proposer, DiscreteSearchOptions options)
{
    /// <param name="progress">Told each finished iteration, for long searches.</param>
    public DiscreteSearchResult Run(IReadOnlyList<int> globalPrompt, TaskDataset local, TaskDataset publicSet,
        IProgress<IterationRecord>? progress = null)
    {
        options.Validate();
        if (globalPrompt.Count == 0) throw new ArgumentException("the global prompt has no tokens");
        var batches = new EvaluationBatches(local, publicSet, options);
        return new SearchRun(blackBox, proposer, options, globalPrompt.ToArray(), progress).Execute(batches);
    }

    /// <summary>The mutable state of one run.</summary>
    sealed class SearchRun(IBlackBoxClassifier blackBox, ITokenProposer proposer, DiscreteSearchOptions options, int[] prompt,
        IProgress<IterationRecord>? progress)
    {
        readonly Random _random = new(options.Seed);
        readonly FeedbackMemory _memory = new();
        readonly List<IterationRecord> _trajectory = [];
        readonly List<AcceptedReplacement> _accepted = [];
        long _queries;
        double _accuracy;   // the prompt's accuracy on the current batch, raised as soon as a replacement is kept

        public DiscreteSearchResult Execute(EvaluationBatches batches)
        {
            var stop = SearchStop.IterationsDone;
            (int Iteration, double Before)? open = null;   // the iteration under way, for a budget stop mid-iteration
            try
            {
                for (int iteration = 0; iteration < options.Iterations; iteration++)
                {
                    var batch = batches.Next(_random);
                    // A fixed batch and an unchanged prompt give the last accuracy again: no need to pay for it.
                    if (iteration == 0 || !batches.Fixed) _accuracy = Accuracy(prompt, batch);
                    open = (iteration, _accuracy);
                    foreach (int position in Positions())
                        ImprovePosition(iteration, position, batch);
                    _trajectory.Add(new IterationRecord(iteration, open.Value.Before, _accuracy, _queries));
                    progress?.Report(_trajectory[^1]);
                    open = null;
                }
            }
            catch (QueryBudgetExceededException)
            {
                stop = SearchStop.BudgetExhausted;
                if (open is { } partial) _trajectory.Add(new IterationRecord(partial.Iteration, partial.Before, _accuracy, _queries));
            }
            return new DiscreteSearchResult(prompt.ToArray(), _trajectory, _accepted, _memory, _queries, stop);
        }

        IEnumerable<int> Positions()
        {
            var positions = Enumerable.Range(0, prompt.Length).ToArray();
            _random.Shuffle(positions);
            return positions.Take(options.PositionsPerIteration).ToArray();
        }

        /// <summary>Tries candidates at one position, keeping each that beats the prompt as it stands.</summary>
        void ImprovePosition(int iteration, int position, IReadOnlyList<LabeledExample> batch)
        {
            foreach (var candidate in Candidates(position))
            {
                int old = prompt[position];
                var trial = prompt.ToArray();
                trial[position] = candidate.TokenId;
                double accuracy = Accuracy(trial, batch), change = accuracy - _accuracy;
                _memory.Record(position, candidate.TokenId, change);
                if (change <= 0) continue;
                prompt[position] = candidate.TokenId;
                _accuracy = accuracy;
                _accepted.Add(new AcceptedReplacement(iteration, position, old, candidate.TokenId, change));
            }
        }

        IEnumerable<TokenCandidate> Candidates(int position)
        {
            var pool = proposer.Propose(prompt, position);
            if (options.UseFeedback) return _memory.Rank(pool, position).Take(options.CandidatesPerPosition).ToArray();
            var shuffled = pool.ToArray();
            _random.Shuffle(shuffled);
            return shuffled.Take(options.CandidatesPerPosition).ToArray();
        }

        /// <summary>Accuracy of a prompt on the batch, from the black box's label answers alone.</summary>
        double Accuracy(IReadOnlyList<int> candidatePrompt, IReadOnlyList<LabeledExample> batch)
        {
            if (options.QueryBudget is long budget && _queries + batch.Count > budget)
                throw new QueryBudgetExceededException(budget, _queries, batch.Count);
            var answers = blackBox.Classify(candidatePrompt, batch.Select(example => example.Text).ToArray());
            if (answers.Count != batch.Count) throw new InvalidOperationException($"the black box answered {answers.Count} labels for {batch.Count} inputs");
            _queries += batch.Count;
            return (double)batch.Where((example, i) => answers[i] == example.Label).Count() / batch.Count;
        }
    }
}
