using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Discrete.Search;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt search --model DIR --task private.jsonl --public public.jsonl --prompt-text T --out prompt.json</c>:
/// one FedDTPT client's discrete prompt search. The model (or, with --black-box minilm, the sentence encoder reading the
/// prompt as the model tokenizer's text) is queried only as a black box (labels back, metered); the proposer (--proposer,
/// default the same folder) suggests replacement tokens.
/// </summary>
public static class SearchCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("The black-box model (with --black-box minilm, only its tokenizer): only its predicted labels are used");
        var blackBoxName = CommonOptions.BlackBox("the --model language model");
        var proposer = new Option<string?>("--proposer") { Description = "Public small LM that proposes tokens (same tokenizer); default: --model" };
        var task = new TaskSetup();
        var publicFile = new Option<string>("--public") { Description = "Small balanced public labeled set mixed into every evaluation batch", Required = true };
        var promptText = new Option<string?>("--prompt-text") { Description = "Starting prompt as text (e.g. the current global prompt)" };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Starting prompt as comma-separated token ids" };
        var output = new Option<string>("--out") { Description = "Improved prompt to write (JSON)", Required = true };
        var iterations = new Option<int>("--iterations") { Description = "Search iterations (each tries candidates at some positions through the black box)", DefaultValueFactory = _ => 10 };
        var positions = new Option<int>("--positions") { Description = "Prompt positions tried per iteration", DefaultValueFactory = _ => 1 };
        var candidates = new Option<int>("--candidates") { Description = "Candidates evaluated per position", DefaultValueFactory = _ => 4 };
        var localBatch = new Option<int>("--local-batch") { Description = "Local examples per evaluation batch", DefaultValueFactory = _ => 32 };
        var publicPerLabel = new Option<int>("--public-per-label") { Description = "Public labeled examples per label mixed into every batch", DefaultValueFactory = _ => 2 };
        var budget = new Option<long?>("--budget") { Description = "Most inputs sent to the black box" };
        var noFeedback = new Option<bool>("--no-feedback") { Description = "Ablation: random candidates instead of the feedback memory's ranking" };
        var neighbours = new Option<string>("--neighbours")
        {
            Description = "Where the proposer finds a token's neighbours: minilm (the sentence encoder on each token's text) or lm (the proposer's input embeddings)",
            DefaultValueFactory = _ => TokenSpaces.MiniLm,
        }.AcceptOnlyFromAmong([.. TokenSpaces.Names]);
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("search", "FedDTPT client: improve a discrete prompt through the black-box model")
        {
            model, proposer, publicFile, promptText, promptIds, output, iterations, positions, candidates, localBatch,
            publicPerLabel, budget, noFeedback, neighbours, blackBoxName, seed, device, json,
        };
        foreach (var option in task.Options) command.Add(option);
        command.SetAction(parse =>
        {
            var (taskData, template, verbalizer) = task.Resolve(parse);
            var local = taskData!.RequireAtLeastTwoClasses();
            var publicSet = TaskFile.Load(parse.GetValue(publicFile)!);
            verbalizer.RequireCovers(publicSet.Labels);
            string modelDir = parse.GetValue(model)!, proposerDir = parse.GetValue(proposer) ?? modelDir;
            var computeDevice = CommonOptions.ResolveDevice(parse.GetValue(device)!);
            var tokenizer = TokenizerLoader.FromFolder(modelDir);
            if (TokenizerLoader.FromFolder(proposerDir).Identity != tokenizer.Identity)
                throw new UserInputException($"{proposerDir} and {modelDir} use different tokenizers; the proposer must share the black box's");
            if ((parse.GetValue(promptText) is null) == (parse.GetValue(promptIds) is null))
                throw new UserInputException("give exactly one of --prompt-text or --prompt-ids");
            var start = parse.GetValue(promptText) is { } text ? tokenizer.Encode(text).ToArray() : CommonOptions.ParseIds(parse.GetValue(promptIds)!, "--prompt-ids");
            if (start.Length == 0) throw new UserInputException("the starting prompt encodes to no tokens");

            using var blackBoxModel = HfCheckpoint.Load(modelDir, computeDevice);
            using var proposerModel = proposerDir == modelDir ? null : HfCheckpoint.Load(proposerDir, computeDevice);
            var labels = local.Labels.Union(publicSet.Labels).Order(StringComparer.Ordinal).ToList();
            var classifier = new PromptedClassifier(blackBoxModel, tokenizer, labels, labels.Select(verbalizer.WordsFor).ToList(), template.Render);
            if (parse.GetValue(blackBoxName) == BlackBoxes.Lm) LabelWordWarnings.Print(classifier);   // the encoder reads no label words
            var blackBox = new LocalBlackBoxClassifier(
                BlackBoxes.Create(parse.GetValue(blackBoxName)!, classifier, tokenizer, task.Descriptions(parse, template, verbalizer)), tokenizer);
            var options = new DiscreteSearchOptions
            {
                Iterations = parse.GetValue(iterations), PositionsPerIteration = parse.GetValue(positions), CandidatesPerPosition = parse.GetValue(candidates),
                LocalBatchSize = parse.GetValue(localBatch), PublicPerLabel = parse.GetValue(publicPerLabel), QueryBudget = parse.GetValue(budget),
                UseFeedback = !parse.GetValue(noFeedback), Seed = parse.GetValue(seed),
            };
            var proposerLm = proposerModel ?? blackBoxModel;
            var search = new DiscretePromptSearch(blackBox,
                new TokenProposer(proposerLm, tokenizer, neighbourSpace: TokenSpaces.Create(parse.GetValue(neighbours)!, proposerLm, tokenizer)), options);
            var result = ProgressViews.Bar("searching", parse.GetValue(json), report => search.Run(start, local, publicSet,
                new Core.SyncProgress<IterationRecord>(r => report(r.Iteration + 1, options.Iterations, $"searching, batch accuracy {r.AccuracyAfter:P1}, {r.QueriesUsed} queries"))));

            new DiscretePrompt(result.Prompt, tokenizer.Identity, tokenizer.Decode(result.Prompt)).Save(parse.GetValue(output)!);
            var summary = new
            {
                prompt = parse.GetValue(output), token_ids = result.Prompt, text = tokenizer.Decode(result.Prompt),
                accuracy_start = result.Trajectory.FirstOrDefault()?.AccuracyBefore, accuracy_end = result.Trajectory.LastOrDefault()?.AccuracyAfter,
                accepted = result.Accepted.Count, queries = result.QueriesUsed, tokens_sent = blackBox.TokensSent, stop = result.StopReason.ToString(),
            };
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(summary));
            else AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(summary.prompt!)}[/]: \"{Markup.Escape(summary.text)}\"; batch accuracy " +
                                        $"{summary.accuracy_start:P1} → {summary.accuracy_end:P1}, {summary.accepted} replacements kept, " +
                                        $"{summary.queries} queries ({summary.tokens_sent} tokens), stopped: {summary.stop}");
            return 0;
        });
        return command;
    }
}
