using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary>One uploaded token or vector: where it came from, its semantic score w and attention α, and (discrete) its id and decoded text.</summary>
sealed record ReportedElement(
    string Client, int Position, double Score, double Attention,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TokenId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text);

sealed record ClientReport(string Client, int Examples, IReadOnlyList<ReportedElement> Prompt);

/// <summary>
/// The sorted k-distance curve and how eps was set (<see cref="Rule"/>): <see cref="FixedEps"/> when given, else the curve's value at
/// <see cref="KneeIndex"/>; both null means the curve has no knee and eps is 0 (only copies cluster).
/// </summary>
sealed record KDistanceReport(int MinSamples, string Metric, string Rule, double? FixedEps, int Length, int? KneeIndex, double Eps, IReadOnlyList<double> Curve);

/// <summary>The groups the global prompt was built from, in global-prompt order, each becoming one token or vector.</summary>
sealed record ClustersReport(int Found, int NoiseKept, int NoiseDropped, IReadOnlyList<IReadOnlyList<ReportedElement>> Groups);

/// <summary>The global prompt: token ids and text (discrete) or vectors (soft).</summary>
sealed record GlobalPromptReport(
    int Length,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? TokenIds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<float[]>? Vectors);

/// <summary>What <c>fedprompt aggregate</c> shows, built once and written either as text tables or as one JSON object.</summary>
sealed record AggregationReport(
    string Kind, string Strategy, string Uploads, string Identity,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Embeddings, IReadOnlyList<ClientReport> Clients,
    KDistanceReport? KDistance, ClustersReport? Clusters, GlobalPromptReport GlobalPrompt, string? Out)
{
    /// <summary>
    /// Gathers the report from an aggregation's result. <paramref name="clusters"/> is null for FedAvg, which neither
    /// attends nor groups; the report still shows each upload's attention then, so strategies compare on the same uploads.
    /// <paramref name="token"/> gives a pooled vector's token id and decoded text (nulls for soft prompts).
    /// </summary>
    public static AggregationReport Build(UploadsFile uploads, AggregateCommand.Settings settings, PooledVectors pooled, PromptClusters? clusters,
        AggregationNotes notes, Func<int, (int? Id, string? Text)> token, GlobalPromptReport globalPrompt, string? outPath)
    {
        var scores = clusters?.Scores ?? SemanticAttention.Scores(pooled);
        var attention = clusters?.Attention ?? SemanticAttention.Weights(pooled);
        var clientIds = uploads.ClientIds;
        ReportedElement Element(int i)
        {
            var (id, text) = token(i);
            return new(clientIds[pooled.Client[i]], pooled.Position[i], scores[i], attention[i], id, text);
        }
        var clients = Enumerable.Range(0, pooled.ClientCount).Select(k => new ClientReport(clientIds[k], pooled.ExampleCounts[k],
            Enumerable.Range(0, pooled.Count).Where(i => pooled.Client[i] == k).Select(Element).ToArray())).ToArray();
        var kDistance = notes.EpsChoice is { } eps
            ? new KDistanceReport(settings.MinSamples, settings.Metric.ToString().ToLowerInvariant(), eps.Rule.ToString(), eps.Rule.FixedEps, eps.KDistanceCurve.Count, eps.KneeIndex, eps.Eps, eps.KDistanceCurve)
            : null;
        // NoClustering marks strategies without a clustering step (FedAvg, and attention, whose groups are single tokens).
        var groups = clusters is not null && notes != AggregationNotes.NoClustering
            ? new ClustersReport(notes.Clusters, notes.NoiseKept, notes.NoiseDropped,
                clusters.Groups.Select(members => (IReadOnlyList<ReportedElement>)members.Select(Element).ToArray()).ToArray())
            : null;
        var discrete = uploads.Kind == UploadKind.Discrete;
        return new AggregationReport(discrete ? "discrete" : "soft", settings.Strategy.ToLowerInvariant(), uploads.Path, uploads.Identity,
            discrete ? settings.Embeddings.ToLowerInvariant() : null, clients, kDistance, groups, globalPrompt, outPath);
    }

    public void WriteJson() => Console.WriteLine(JsonSerializer.Serialize(this, CommonOptions.JsonLine));

    public void WriteText()
    {
        var discrete = Kind == "discrete";
        AnsiConsole.MarkupLine($"{Clients.Count} {Kind} uploads from [blue]{Markup.Escape(Uploads)}[/] ({(discrete ? "tokenizer" : "model")} {Markup.Escape(Identity)}), strategy [bold]{Strategy}[/]" +
            (Embeddings is { } space ? $", token embeddings {space}" : ""));

        var uploadsTable = new Table().AddColumns("client", "examples", "position");
        if (discrete) uploadsTable.AddColumn("token");
        uploadsTable.AddColumn(new TableColumn("score w").RightAligned());
        uploadsTable.AddColumn(new TableColumn("attention α").RightAligned());
        foreach (var client in Clients)
            foreach (var element in client.Prompt)
            {
                var first = element.Position == 0;
                string[] cells = [first ? Markup.Escape(client.Client) : "", first ? client.Examples.ToString(CultureInfo.InvariantCulture) : "",
                                  element.Position.ToString(CultureInfo.InvariantCulture)];
                uploadsTable.AddRow([.. cells, .. discrete ? [Token(element)] : Array.Empty<string>(), Number(element.Score), Number(element.Attention)]);
            }
        AnsiConsole.Write(uploadsTable);

        AnsiConsole.MarkupLine(KDistance is { } curve
            ? $"k-distance curve (min_samples {curve.MinSamples}, {curve.Metric}, {curve.Rule}): {curve.Length} points, " +
              (curve.KneeIndex is { } knee ? $"knee at index {knee}" : curve.FixedEps is not null ? "eps fixed" : "no knee (eps 0: only copies cluster)") + $", eps [bold]{Number(curve.Eps)}[/]"
            : $"k-distance curve: none ({Strategy} does not run DBSCAN)");

        if (Clusters is { } clusters)
        {
            AnsiConsole.MarkupLine($"{clusters.Found} clusters, {clusters.NoiseKept} noise points kept as singletons, {clusters.NoiseDropped} dropped; groups in prompt order:");
            var groupsTable = new Table().AddColumns("group", "members (client:position, score w, attention α)");
            for (var g = 0; g < clusters.Groups.Count; g++)
                groupsTable.AddRow(g.ToString(CultureInfo.InvariantCulture), string.Join("\n", clusters.Groups[g].Select(member =>
                    $"{Markup.Escape(member.Client)}:{member.Position} {(discrete ? Token(member) + " " : "")}w {Number(member.Score)} α {Number(member.Attention)}")));
            AnsiConsole.Write(groupsTable);
        }
        else AnsiConsole.MarkupLine($"clusters: none ({Strategy} does not cluster)");

        AnsiConsole.MarkupLine(discrete
            ? $"global prompt, {GlobalPrompt.Length} tokens: ids [bold]{string.Join(' ', GlobalPrompt.TokenIds!)}[/], text {Markup.Escape(Quoted(GlobalPrompt.Text!))}"
            : $"global prompt: [bold]{GlobalPrompt.Length}[/] vectors of {GlobalPrompt.Vectors![0].Length} dimensions");
        if (Out is not null) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(Out)}[/]");
    }

    static string Token(ReportedElement element) => Markup.Escape($"{element.TokenId} {Quoted(element.Text!)}");

    /// <summary>A decoded token in quotes, escaped as JSON so spaces, newlines and broken UTF-8 show; other characters as they are.</summary>
    static string Quoted(string text) => JsonSerializer.Serialize(text, ReadableQuotes);

    static readonly JsonSerializerOptions ReadableQuotes = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
