using System.Diagnostics;
using FederatedPrompts.Coordinator.Services;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Federation.Tests;

/// <summary>Issue #12: inference that one long text cannot stall.</summary>
public partial class BadInputTests
{
    /// <summary>Plenty for a call answered in milliseconds on a loaded machine; a call that would hang fails instead of holding the test.</summary>
    static DateTime Soon => DateTime.UtcNow.AddSeconds(30);

    /// <summary>
    /// A text over <see cref="Protocol.InferenceLimits.MaxTextBytes"/> (a megabyte; bytes of UTF-8, not characters) is refused
    /// before anything is charged. Texts at the limit, each one letter repeated (the costliest text to tokenize whole: 64 KB
    /// took 3 s under the model lock), are answered, alone and a megabyte of them in one request, while ordinary requests
    /// sent meanwhile are answered too. That their cost is bounded by the model's window and not by the text is pinned
    /// without a clock in PromptedClassifierTests (a tokenizer that refuses longer inputs); here the durations are only
    /// printed, because a wall-clock bound in a unit test fails on a loaded machine (CI: refusing took 1031 ms once).
    /// </summary>
    [Fact]
    public async Task Inference_refuses_a_text_over_the_limit_before_charging_and_answers_texts_at_the_limit()
    {
        // A budget no count of ordinary requests below reaches, however long the loop runs.
        await using var c = await Start("discrete", change: r => r with { Discrete = r.Discrete with { QueryBudget = 1_000_000 } });
        var one = c.Federation("client-1");
        await one.EnrolAsync(DiscreteEnrol(6));
        await c.Federation("client-2").EnrolAsync(DiscreteEnrol(7));
        await UntilTrain(one, c.RunId, 1);
        var infer = c.Inference("client-1");
        ClassifyRequest Classify(string[] texts) => new() { RunId = c.RunId, PromptTokenIds = { 3, 4 }, Texts = { texts } };
        async Task<TimeSpan> Timed(string[] texts)
        {
            var watch = Stopwatch.StartNew();
            var reply = await infer.ClassifyAsync(Classify(texts), deadline: Soon);
            Assert.Equal(texts.Length, reply.Labels.Count);
            return watch.Elapsed;
        }

        await Timed(["a lovely day"]);   // the first call pays for JIT compilation
        int limit = Protocol.InferenceLimits.MaxTextBytes;
        var refusing = Stopwatch.StartNew();
        await c.Refused(StatusCode.InvalidArgument, $"text 1 has {1 << 20} bytes (UTF-8), more than the {limit} a text may have",
            () => infer.ClassifyAsync(Classify(["a lovely day", new string('a', 1 << 20)]), deadline: Soon).ResponseAsync);
        var refused = refusing.Elapsed;
        await c.Refused(StatusCode.InvalidArgument, $"text 0 has {limit + 2} bytes (UTF-8)",
            () => infer.ClassifyAsync(Classify([new string('é', limit / 2 + 1)]), deadline: Soon).ResponseAsync);
        Assert.Equal(1, c.Store.QueriesUsed(c.RunId, 1, "client-1"));   // the first call's only

        var atLimit = new string('a', limit);
        var single = await Timed([atLimit]);

        const int full = 16;   // a megabyte of text in one request
        var heavy = Timed(Enumerable.Repeat(atLimit, full).ToArray());
        var ordinary = new List<TimeSpan>();
        do ordinary.Add(await Timed(["a dull day"]));
        while (!heavy.IsCompleted);
        var heavyTook = await heavy;
        output.WriteLine($"refusing a megabyte: {refused.TotalMilliseconds:F0} ms; a text at the limit: {single.TotalMilliseconds:F0} ms; {full} texts at the limit: " +
            $"{heavyTook.TotalMilliseconds:F0} ms; ordinary requests meanwhile: {string.Join(", ", ordinary.Select(t => $"{t.TotalMilliseconds:F0}"))} ms");
        Assert.Equal(2 + full + ordinary.Count, c.Store.QueriesUsed(c.RunId, 1, "client-1"));

        // The client library keeps to the contract: a megabyte goes as its last 64 KiB, and 300 texts of 40 KiB (12 MB)
        // go in requests under the message limit, so none is refused. (Words, not one letter: the client counts the tokens
        // it sends, and a 40 KiB word costs the tokenizer seconds.)
        string Words(int bytes) => string.Concat(Enumerable.Repeat("a lovely day ", bytes / 13));
        var tokenizer = Modeling.Tokenization.TokenizerLoader.FromFolder(c.Engine.Config.SmallModel);
        var limits = new Client.InferenceRequestLimits(Protocol.InferenceLimits.MaxTextsPerRequest, Protocol.InferenceLimits.MaxTextBytes, Protocol.InferenceLimits.MaxRequestTextBytes);
        var client = new Client.Transport.RemoteBlackBoxClassifier(infer, c.RunId, tokenizer, budget: 1_000_000, limits, CancellationToken.None);
        Assert.Equal(2, client.Classify([3, 4], [Words(1 << 20), "a lovely day"]).Count);
        Assert.Equal(300, client.Classify([3, 4], Enumerable.Repeat(Words(40 * 1024), 300).ToList()).Count);
        Assert.Equal(302, client.Queries);
    }
}
