using System.Diagnostics;
using FederatedPrompts.Discrete.BlackBox;

namespace FederatedPrompts.Coordinator.Models;

/// <summary>What the inference service answers one request with, and how long it waited for the model.</summary>
public sealed record InferenceAnswer(IReadOnlyList<string> Labels, TimeSpan QueueWait);

/// <summary>
/// How the inference service uses the model: at most <paramref name="MaxBatch"/> inputs of concurrent requests in one
/// pass, waiting at most <paramref name="MaxWait"/> for a pass to fill (<see cref="InferenceBatcher"/>); MaxBatch 0 serves
/// one request after another, each in its own passes, as before batching.
/// </summary>
public sealed record InferenceBatching(int MaxBatch, TimeSpan MaxWait)
{
    public static readonly InferenceBatching Default = new(32, TimeSpan.FromMilliseconds(2));
    public static readonly InferenceBatching Off = new(0, TimeSpan.Zero);
}

/// <summary>
/// Dynamic batching for the inference service: the queries of concurrent requests, each client with its own prompt,
/// go to the black box together, up to <c>maxBatch</c> inputs a pass, instead of one request after another. A pass
/// starts as soon as the model is free, after at most <c>maxWait</c> for more requests to join it while it is not full
/// and several clients are about (one client alone is served at once); a request larger than a pass is spread over several. Fairness: a pass takes one input from each client with pending
/// inputs in turn (round robin, in order of arrival), so a client with one text is never queued behind another
/// client's hundreds. Each answer is the one the query would get alone (<see cref="IBatchingBlackBox"/>).
/// </summary>
public sealed class InferenceBatcher : IDisposable
{
    readonly Func<IReadOnlyList<BlackBoxQuery>, IReadOnlyList<string>> _classify;
    readonly int _maxBatch;
    readonly TimeSpan _maxWait;
    readonly Lock _gate = new();
    /// <summary>Clients with pending inputs, in the order they are served next; each with its inputs in arrival order.</summary>
    readonly LinkedList<(string Client, Queue<Item> Items)> _turns = new();
    readonly SemaphoreSlim _work = new(0, 1);
    readonly CancellationTokenSource _stop = new();
    readonly Task _worker;
    int _pending;

    sealed class Request(int count)
    {
        public readonly TaskCompletionSource<InferenceAnswer> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly string[] Labels = new string[count];
        public readonly long Arrived = Stopwatch.GetTimestamp();
        public int Left = count;
        public TimeSpan? Waited;
    }

    readonly record struct Item(string Client, Request Request, int Index, BlackBoxQuery Query);

    /// <param name="classify">One pass of the black box (the caller holds whatever lock the models need).</param>
    public InferenceBatcher(Func<IReadOnlyList<BlackBoxQuery>, IReadOnlyList<string>> classify, int maxBatch, TimeSpan maxWait)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "a pass takes at least one input");
        if (maxWait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(maxWait), maxWait, "the wait for a fuller pass cannot be negative");
        _classify = classify;
        _maxBatch = maxBatch;
        _maxWait = maxWait;
        _worker = Task.Run(ServeAsync);
    }

    /// <summary>Labels for <paramref name="texts"/> with <paramref name="prompt"/>, in order, once every one has had its pass.</summary>
    public Task<InferenceAnswer> ClassifyAsync(string client, IReadOnlyList<int> prompt, IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return Task.FromResult(new InferenceAnswer([], TimeSpan.Zero));
        var request = new Request(texts.Count);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            var turn = _turns.FirstOrDefault(t => t.Client == client).Items;
            if (turn is null) _turns.AddLast((client, turn = new Queue<Item>()));
            for (int i = 0; i < texts.Count; i++) turn.Enqueue(new Item(client, request, i, new BlackBoxQuery(prompt, texts[i])));
            _pending += texts.Count;
            if (_work.CurrentCount == 0) _work.Release();
        }
        return request.Done.Task;
    }

    async Task ServeAsync()
    {
        try
        {
            while (true)
            {
                await _work.WaitAsync(_stop.Token);
                int lastPassClients = 0;
                while (Pending() > 0)
                {
                    // Waiting pays only where other clients may join: a lone client's request goes at once (measured: the
                    // wait cost a single client 20 % of its throughput, and gave 100 clients 1.75× instead of 1.4×).
                    if (_maxWait > TimeSpan.Zero && Pending() < _maxBatch && (lastPassClients > 1 || WaitingClients() > 1))
                        await Task.Delay(_maxWait, _stop.Token);
                    var pass = Take();
                    lastPassClients = pass.Select(item => item.Client).Distinct().Count();
                    Serve(pass);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            lock (_gate)
                foreach (var (_, items) in _turns)
                    foreach (var item in items) item.Request.Done.TrySetException(new ObjectDisposedException(nameof(InferenceBatcher), "the coordinator is stopping"));
        }
    }

    int Pending()
    {
        lock (_gate) return _pending;
    }

    int WaitingClients()
    {
        lock (_gate) return _turns.Count;
    }

    /// <summary>The next pass: one input per client in turn until it is full; a client served goes to the back of the line.</summary>
    List<Item> Take()
    {
        var batch = new List<Item>(_maxBatch);
        lock (_gate)
        {
            while (batch.Count < _maxBatch && _turns.First is { } first)
            {
                _turns.RemoveFirst();
                var item = first.Value.Items.Dequeue();
                _pending--;
                if (first.Value.Items.Count > 0) _turns.AddLast(first);
                if (item.Request.Done.Task.IsCompleted) continue;   // failed in an earlier pass
                item.Request.Waited ??= Stopwatch.GetElapsedTime(item.Request.Arrived);
                batch.Add(item);
            }
        }
        return batch;
    }

    void Serve(List<Item> batch)
    {
        if (batch.Count == 0) return;
        try
        {
            var labels = _classify(batch.Select(item => item.Query).ToList());
            if (labels.Count != batch.Count) throw new InvalidOperationException($"the black box answered {labels.Count} of {batch.Count} queries");
            for (int i = 0; i < batch.Count; i++)
            {
                var request = batch[i].Request;
                request.Labels[batch[i].Index] = labels[i];
                if (--request.Left == 0) request.Done.TrySetResult(new InferenceAnswer(request.Labels, request.Waited!.Value));
            }
        }
        catch (Exception e)
        {
            foreach (var item in batch) item.Request.Done.TrySetException(e);
        }
    }

    /// <summary>Stops serving: requests still queued fail with <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
        }
        try { _worker.Wait(); } catch (AggregateException) { }
    }
}
