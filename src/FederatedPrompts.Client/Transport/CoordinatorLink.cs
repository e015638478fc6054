using System.Security.Cryptography;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Client.Transport;

/// <summary>What an upload came to: taken, already in (an earlier attempt landed), or refused (the round closed without it).</summary>
public enum UploadOutcome { Accepted, AlreadyIn, Refused }

/// <summary>The coordinator's answer to an upload, the upload's size on the wire, and the refusal's detail where there was one.</summary>
public sealed record UploadReceipt(UploadOutcome Outcome, int UploadsInRound, int RequestBytes, string? Detail);

/// <summary>
/// The coordinator as the client loop sees it: domain values in and out (<see cref="ClientMessages"/> maps them), every
/// control call under a fresh deadline and sent again after transient failures (<see cref="Retry"/>), and the upload's
/// answers that are not failures (ALREADY_EXISTS, FAILED_PRECONDITION) turned into <see cref="UploadOutcome"/>s. The
/// one place the client holds the generated gRPC clients.
/// </summary>
public sealed class CoordinatorLink
{
    readonly Federation.FederationClient _federation;
    readonly Inference.InferenceClient _inference;
    readonly Retry _retry;
    readonly TimeSpan _callTimeout;

    /// <param name="onRetry">Told of every transient failure: what failed, the attempt and the wait before the next.</param>
    public CoordinatorLink(CallInvoker channel, CallPolicy policy, int jitterSeed, Action<string, int, TimeSpan>? onRetry = null)
    {
        _federation = new Federation.FederationClient(channel);
        _inference = new Inference.InferenceClient(channel);
        _callTimeout = policy.CallTimeout;
        _retry = new Retry(policy, jitterSeed) { OnRetry = onRetry is null ? null : (e, attempt, pause) => onRetry($"{e.StatusCode}: {e.Status.Detail}", attempt, pause) };
    }

    public async Task<Enrolment> EnrolAsync(PromptMode mode, int exampleCount, CancellationToken cancel) => ClientMessages.ToEnrolment(
        await _retry.Call(() => _federation.EnrolAsync(new EnrolRequest { Mode = ClientMessages.ToMessage(mode), ExampleCount = exampleCount }, Deadline(cancel)).ResponseAsync, cancel));

    public async Task<NextStep> NextStepAsync(string runId, CancellationToken cancel) => ClientMessages.ToNextStep(
        await _retry.Call(() => _federation.GetRoundTaskAsync(new RoundTaskRequest { RunId = runId }, Deadline(cancel)).ResponseAsync, cancel));

    public async Task<UploadReceipt> UploadAsync(RoundAssignment round, LocalUpdate update, int exampleCount, CancellationToken cancel)
    {
        var request = ClientMessages.ToUploadRequest(round, update, exampleCount);
        int bytes = request.CalculateSize();
        try
        {
            var reply = await _retry.Call(() => _federation.UploadAsync(request, Deadline(cancel)).ResponseAsync, cancel);
            return new UploadReceipt(UploadOutcome.Accepted, reply.UploadsInRound, bytes, null);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
            return new UploadReceipt(UploadOutcome.AlreadyIn, 0, bytes, e.Status.Detail);   // retried after a lost reply
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            return new UploadReceipt(UploadOutcome.Refused, 0, bytes, e.Status.Detail);   // too late: the round closed without it
        }
    }

    /// <summary>Tells the operator's status view what this client is doing; a missed heartbeat is harmless (the upload is what counts, and it retries).</summary>
    public void Heartbeat(string runId, string activity, CancellationToken cancel)
    {
        try
        {
            _federation.Heartbeat(new HeartbeatRequest { RunId = runId, Activity = activity }, Deadline(cancel));
        }
        catch (RpcException)
        {
        }
    }

    /// <summary>What one file's download brought: the bytes appended to the partial file, and the gRPC messages that carried them.</summary>
    public readonly record struct Fetched(long FileBytes, long MessageBytes);

    /// <summary>
    /// Appends <paramref name="file"/>'s bytes to <paramref name="partialPath"/> from its current length (so an interrupted
    /// download resumes), each chunk checked against its SHA-256 and written to disk before the next is read, so the
    /// client holds one chunk at a time; retried after transient failures. The counts include every attempt's chunks.
    /// </summary>
    public async Task<Fetched> DownloadAsync(string modelIdentity, ModelFile file, string partialPath, CancellationToken cancel)
    {
        var fetched = new Fetched();
        await _retry.Call(async () =>
        {
            await Download(modelIdentity, file, partialPath, chunk => fetched = new Fetched(
                fetched.FileBytes + chunk.Data.Length, fetched.MessageBytes + GrpcFramePrefixBytes + chunk.CalculateSize()), cancel);
            return 0;
        }, cancel);
        return fetched;
    }

    /// <summary>gRPC's length-prefixed message framing: a compressed flag and a 4-byte length before every message.</summary>
    const int GrpcFramePrefixBytes = 5;

    async Task Download(string modelIdentity, ModelFile file, string partial, Action<ModelChunk> written, CancellationToken cancel)
    {
        long offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (offset > file.Size) { File.Delete(partial); offset = 0; }
        if (offset == file.Size) return;
        await using var output = new FileStream(partial, FileMode.Append, FileAccess.Write);
        using var call = _federation.DownloadModel(new DownloadModelRequest { ModelIdentity = modelIdentity, FileName = file.Name, Offset = offset }, cancellationToken: cancel);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancel))
        {
            if (chunk.Offset != output.Length) throw new InvalidDataException($"{file.Name}: chunk at offset {chunk.Offset}, expected {output.Length}");
            // Checked before it is written, so the partial file ends at the last good chunk and a retry resumes there.
            if (chunk.Sha256.Length > 0 && Convert.ToHexStringLower(SHA256.HashData(chunk.Data.Span)) != chunk.Sha256)
                throw new InvalidDataException($"{file.Name}: the chunk at offset {chunk.Offset} does not match its SHA-256 {chunk.Sha256}");
            chunk.Data.WriteTo(output);
            written(chunk);
        }
    }

    /// <summary>The run's inference service as a metered black box for one round's search, within <paramref name="budget"/> inputs.</summary>
    public RemoteBlackBoxClassifier BlackBox(Enrolment enrolment, ITextTokenizer tokenizer, long budget, CancellationToken cancel) =>
        new(_inference, enrolment.RunId, tokenizer, budget, enrolment.Inference, cancel);

    /// <summary>A fresh deadline per attempt (the lambdas given to <see cref="Retry"/> call this each time).</summary>
    CallOptions Deadline(CancellationToken cancel) => new(deadline: DateTime.UtcNow + _callTimeout, cancellationToken: cancel);
}
