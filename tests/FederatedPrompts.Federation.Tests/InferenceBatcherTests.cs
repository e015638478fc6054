using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Discrete.BlackBox;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// The inference service's dynamic batching (issue #15): passes over concurrent requests, fair across clients, each
/// request answered in its own order. The black box here answers a query with its prompt's first id and its text, so
/// every answer says which query it was, and each pass is recorded.
/// </summary>
public class InferenceBatcherTests
{
    /// <summary>Records each pass; the first waits for <see cref="Release"/>, so requests can queue behind it.</summary>
    sealed class RecordingBox
    {
        readonly SemaphoreSlim _firstPass = new(0);
        bool _held = true;
        public readonly List<IReadOnlyList<BlackBoxQuery>> Passes = [];
        public readonly TaskCompletionSource FirstPassStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<string> Classify(IReadOnlyList<BlackBoxQuery> queries)
        {
            lock (Passes) Passes.Add(queries);
            if (_held)
            {
                _held = false;
                FirstPassStarted.SetResult();
                _firstPass.Wait();
            }
            return queries.Select(q => $"{q.PromptTokenIds[0]}:{q.Text}").ToArray();
        }

        public void Release() => _firstPass.Release();
    }

    static string[] Texts(string client, int count) => Enumerable.Range(0, count).Select(i => $"{client}{i}").ToArray();

    [Fact]
    public async Task A_client_with_one_text_is_served_in_the_next_pass_not_behind_another_clients_hundred()
    {
        var box = new RecordingBox();
        using var batcher = new InferenceBatcher(box.Classify, maxBatch: 8, maxWait: TimeSpan.Zero);
        var first = batcher.ClassifyAsync("a", [1], Texts("a", 8));
        await box.FirstPassStarted.Task;   // the model is busy with a's first pass
        var big = batcher.ClassifyAsync("a", [1], Texts("b", 100));
        var small = batcher.ClassifyAsync("c", [2], Texts("c", 1));
        box.Release();
        var answers = await Task.WhenAll(first, big, small).WaitAsync(TimeSpan.FromSeconds(30));

        // Every request gets its own answers, in its own order, whatever passes they were spread over.
        Assert.Equal(Texts("a", 8).Select(t => $"1:{t}"), answers[0].Labels);
        Assert.Equal(Texts("b", 100).Select(t => $"1:{t}"), answers[1].Labels);
        Assert.Equal(["2:c0"], answers[2].Labels);
        // Fair: c's one text is in the pass right after the busy one, beside a's next inputs; no pass is over the limit.
        Assert.Contains(box.Passes[1], q => q.Text == "c0");
        Assert.All(box.Passes, pass => Assert.InRange(pass.Count, 1, 8));
        Assert.Equal(8 + 100 + 1, box.Passes.Sum(p => p.Count));
        Assert.True(answers[1].QueueWait > TimeSpan.Zero);
    }

    [Fact]
    public async Task Requests_that_arrive_together_share_a_pass()
    {
        var box = new RecordingBox();
        using var batcher = new InferenceBatcher(box.Classify, maxBatch: 32, maxWait: TimeSpan.Zero);
        var busy = batcher.ClassifyAsync("x", [9], ["x"]);
        await box.FirstPassStarted.Task;
        var requests = Enumerable.Range(0, 10).Select(k => batcher.ClassifyAsync($"client-{k}", [k], Texts($"t{k}-", 2))).ToList();
        box.Release();
        await Task.WhenAll(requests.Append(busy)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, box.Passes.Count);   // the ten requests that queued while the model was busy went in one pass
        Assert.Equal(20, box.Passes[1].Count);
        for (int k = 0; k < 10; k++) Assert.Equal(Texts($"t{k}-", 2).Select(t => $"{k}:{t}"), (await requests[k]).Labels);
    }

    [Fact]
    public async Task A_failed_pass_fails_the_requests_in_it_and_the_next_requests_are_served()
    {
        int passes = 0;
        using var batcher = new InferenceBatcher(queries => ++passes == 1 ? throw new InvalidOperationException("the model failed")
            : queries.Select(q => q.Text).ToArray(), maxBatch: 4, maxWait: TimeSpan.Zero);
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.ClassifyAsync("a", [1], Texts("a", 6)));
        Assert.Equal("the model failed", failed.Message);
        Assert.Equal(["b0"], (await batcher.ClassifyAsync("b", [1], ["b0"]).WaitAsync(TimeSpan.FromSeconds(30))).Labels);
        Assert.Equal(2, passes);   // a's other two inputs were dropped with it, not classified
    }
}
