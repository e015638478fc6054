using System.CommandLine;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt aggregate --prompts uploads.jsonl [--model DIR]</c>: FedDTPT's server aggregation run offline on one
/// round's uploads (<see cref="UploadsFile"/>), reporting attention, the k-distance curve's knee and eps, the clusters
/// and the global prompt. Discrete uploads are embedded by meaning (--embeddings minilm: the sentence encoder on each
/// token's text) or with the model's input embeddings (lm); either way they need --model for its tokenizer.
/// </summary>
public static class AggregateCommand
{
    public static Command Create()
    {
        var prompts = new Option<string>("--prompts")
        {
            Description = "Uploads, one JSON object a line: {\"client\", \"token_ids\", \"tokenizer\", \"examples\"} or {\"client\", \"vectors\", \"model\", \"examples\"}",
            Required = true,
        };
        var model = new Option<string?>("--model") { Description = "Model folder: discrete uploads are decoded with its tokenizer and embedded per --embeddings (required for them); soft uploads are checked against its embedding identity" };
        var embeddings = new Option<string>("--embeddings")
        {
            Description = "Discrete uploads: minilm (the pretrained sentence encoder on each token's text) or lm (the model's input embeddings)",
            DefaultValueFactory = _ => TokenSpaces.MiniLm,
        }.AcceptOnlyFromAmong([.. TokenSpaces.Names]);
        var knee = new Option<string>("--knee") { Description = "How eps is read off the k-distance curve: kneed (first significant knee from the top) or kneedle-global (the point farthest below the chord)", DefaultValueFactory = _ => "kneed" }
            .AcceptOnlyFromAmong([.. KneeNames.Names]);
        var eps = new Option<double?>("--eps") { Description = "A fixed DBSCAN eps instead of the knee (a distance under --metric)" };
        var trim = new Option<double>("--trim-fraction")
        {
            Description = "Soft trimmed-mean: the share of values dropped at each end of every coordinate, in [0, 0.5)", DefaultValueFactory = _ => 0.1,
        };
        var k = new Option<int?>("--k") { Description = "kmeans: the number of clusters (default: --max-length, else the longest upload's length)" };
        var strategy = new Option<string?>("--strategy")
        {
            Description = $"Token strategy ({string.Join(", ", TokenAggregationStrategies.Names)}; default feddtpt); soft prompts: {string.Join(", ", SoftPromptAggregationStrategies.Names)} (default fedavg, as in a run)",
        };
        var minSamples = new Option<int>("--min-samples") { Description = "DBSCAN min_samples, the point itself included (k of the k-distance curve)", DefaultValueFactory = _ => 2 };
        var metric = new Option<string>("--metric") { Description = "Distance for clustering: cosine or euclidean", DefaultValueFactory = _ => "cosine" }
            .AcceptOnlyFromAmong("cosine", "euclidean");
        var length = new Option<int?>("--max-length") { Description = "The global prompt's length at most (a run's aggregation_max_length): feddtpt keeps the clusters of most attention, attention that many tokens, kmeans that many clusters" };
        var seed = CommonOptions.Seed();
        var output = new Option<string?>("--out") { Description = "Write the global prompt as a discrete-prompt or soft-prompt JSON file" };
        var json = CommonOptions.Json();
        var command = new Command("aggregate", "Run FedDTPT's server aggregation offline on uploaded prompts")
            { prompts, model, embeddings, strategy, minSamples, metric, knee, eps, k, trim, length, seed, output, json };
        command.SetAction(parse =>
        {
            if (parse.GetValue(minSamples) < 1) throw new UserInputException("--min-samples must be at least 1");
            if (parse.GetValue(length) < 1) throw new UserInputException("--max-length must be at least 1");
            if (parse.GetValue(k) < 1) throw new UserInputException("--k must be at least 1");
            if (SoftAggregationOptions.TrimFractionProblem(parse.GetValue(trim)) is { } trimProblem) throw new UserInputException($"--trim-fraction {trimProblem}");
            if (parse.GetValue(eps) is { } fixedEps && !(fixedEps >= 0 && double.IsFinite(fixedEps)))
                throw new UserInputException($"--eps must be a finite number ≥ 0, not {fixedEps}");
            var uploads = UploadsFile.Load(parse.GetValue(prompts)!);
            // Each kind's default strategy is the one a run uses for it.
            var strategyName = parse.GetValue(strategy) ?? (uploads.Kind == UploadKind.Discrete ? "feddtpt" : "fedavg");
            var epsRule = new EpsRule(KneeNames.Parse(parse.GetValue(knee)!), parse.GetValue(eps));
            var settings = new Settings(strategyName, parse.GetValue(minSamples),
                parse.GetValue(metric) == "euclidean" ? DistanceMetric.Euclidean : DistanceMetric.Cosine, parse.GetValue(length), parse.GetValue(seed),
                parse.GetValue(embeddings)!, epsRule, parse.GetValue(k), parse.GetValue(trim));
            var report = uploads.Kind == UploadKind.Discrete
                ? AggregateTokens(uploads, parse.GetValue(model), settings, parse.GetValue(output))
                : AggregateSoft(uploads, parse.GetValue(model), settings, parse.GetValue(output));
            if (parse.GetValue(json)) report.WriteJson();
            else report.WriteText();
            return 0;
        });
        return command;
    }

    internal sealed record Settings(string Strategy, int MinSamples, DistanceMetric Metric, int? Length, int Seed, string Embeddings, EpsRule Eps, int? K,
        double TrimFraction);

    static AggregationReport AggregateTokens(UploadsFile uploads, string? modelDir, Settings settings, string? outPath)
    {
        if (modelDir is null)
            throw new UserInputException($"{uploads.Path} holds discrete uploads: give --model DIR, the model whose input embeddings they are compared in");
        var tokenizer = TokenizerLoader.FromFolder(modelDir);
        if (tokenizer.Identity != uploads.Identity)
            throw new UserInputException($"{uploads.Path}: the uploads use tokenizer {uploads.Identity}, but {modelDir} has tokenizer {tokenizer.Identity}");
        ITokenEmbeddings vocabulary;
        using (var lm = HfCheckpoint.Load(modelDir)) vocabulary = TokenSpaces.Create(settings.Embeddings, lm, tokenizer);
        var embedded = uploads.EmbedTokens(vocabulary);
        var options = new TokenAggregationOptions(settings.MinSamples, settings.Metric, settings.Length, settings.Seed, vocabulary, settings.Eps, settings.K);
        var global = TokenAggregationStrategies.Create(settings.Strategy, options).Aggregate(embedded);
        var text = tokenizer.Decode(global.TokenIds);
        if (outPath is not null) new DiscretePrompt(global.TokenIds, uploads.Identity, text).Save(outPath);
        var tokenIds = embedded.SelectMany(upload => upload.Tokens.Select(token => token.TokenId)).ToArray();
        return AggregationReport.Build(uploads, settings, global.Clusters?.Pooled ?? PooledVectors.From(embedded), global.Clusters, global.Notes,
            i => (tokenIds[i], tokenizer.Decode([tokenIds[i]])), new GlobalPromptReport(global.TokenIds.Count, global.TokenIds, text, null), outPath);
    }

    static AggregationReport AggregateSoft(UploadsFile uploads, string? modelDir, Settings settings, string? outPath)
    {
        if (modelDir is not null)
        {
            using var lm = HfCheckpoint.Load(modelDir);
            if (ModelIdentity.Of(lm) is var identity && identity != uploads.Identity)
                throw new UserInputException($"{uploads.Path}: the uploads live in model {uploads.Identity}'s embedding space, but {modelDir} is {identity}");
        }
        var options = new SoftAggregationOptions(settings.MinSamples, settings.Metric, settings.Length, settings.Eps, settings.TrimFraction);
        var global = SoftPromptAggregationStrategies.Create(settings.Strategy, options).Aggregate(uploads.Soft);
        if (outPath is not null) global.ToSoftPrompt(uploads.Identity).Save(outPath);
        return AggregationReport.Build(uploads, settings, global.Clusters?.Pooled ?? PooledVectors.From(uploads.Soft), global.Clusters, global.Notes,
            _ => (null, null), new GlobalPromptReport(global.Vectors.Count, null, null, global.Vectors), outPath);
    }
}
