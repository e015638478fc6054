using System.Buffers;
using System.Security.Cryptography;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Operations;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>The client-facing service: each call is the caller's identity plus a request, handed to the round engine.</summary>
public sealed class FederationService(RunHost runs, CallerIdentity caller, CoordinatorOptions options, CoordinatorMetrics metrics, AuditLog audit)
    : Federation.FederationBase
{
    const int ChunkBytes = 256 * 1024;
    /// <summary>How often a working client says it is alive (told at enrolment).</summary>
    public const int HeartbeatSeconds = 5;
    const int RetryAfterMs = 500;

    public override Task<EnrolReply> Enrol(EnrolRequest request, ServerCallContext context)
    {
        var run = runs.Require();
        var client = run.Engine.Enrol(caller.Of(context), WireMapping.ModeOf(request.Mode), request.ExampleCount);
        audit.Enrolled(client.ClientId, Prompt.NameOf(client.Mode), client.ExampleCount);
        var models = run.Models.Value;
        return Task.FromResult(new EnrolReply
        {
            ClientId = client.ClientId, RunId = run.Engine.RunId, Mode = WireMapping.ToWire(client.Mode), Model = WireMapping.ToWire(models.Folder),
            Task = WireMapping.ToWire(models.Task), HeartbeatSeconds = HeartbeatSeconds, Limits = LimitsOf(run, client.Mode),
        });
    }

    public override Task<RoundTaskReply> GetRoundTask(RoundTaskRequest request, ServerCallContext context)
    {
        var engine = runs.Require().Engine;
        var task = engine.NextTask(caller.Of(context), request.RunId);
        return Task.FromResult(WireMapping.ToWire(task, engine.RunId, engine.Config.Rounds, RetryAfterMs));
    }

    Limits LimitsOf(ActiveRun run, PromptMode mode)
    {
        var facts = run.Models.Value.Facts;
        return new Limits
        {
            MaxMessageBytes = options.MaxMessageBytes, MaxPromptLength = facts.MaxPromptLength,
            MaxVectorNorm = mode == PromptMode.Soft ? facts.MaxVectorNorm : 0, MaxExampleCount = run.Engine.Config.MaxExampleCount,
            MaxTextsPerRequest = InferenceLimits.MaxTextsPerRequest, MaxTextBytes = InferenceLimits.MaxTextBytes, ChunkBytes = ChunkBytes,
        };
    }

    public override async Task DownloadModel(DownloadModelRequest request, IServerStreamWriter<ModelChunk> responseStream, ServerCallContext context)
    {
        var run = runs.Require();
        run.Engine.Heartbeat(caller.Of(context), "", $"downloading {request.FileName}");
        var folder = run.Models.Value.Folder;
        if (request.ModelIdentity != folder.ModelIdentity)
            throw new RpcException(new Status(StatusCode.NotFound, $"model {request.ModelIdentity} is not this run's ({folder.ModelIdentity})"));
        var path = folder.PathOf(request.FileName)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"the model has no file \"{request.FileName}\""));
        await using var file = File.OpenRead(path);
        if (request.Offset < 0 || request.Offset > file.Length)
            throw new RpcException(new Status(StatusCode.OutOfRange, $"offset {request.Offset} is outside {request.FileName} ({file.Length} bytes)"));
        file.Position = request.Offset;
        // One buffer per download, and each chunk's message wraps it instead of copying it: a copy per chunk put 256 KiB
        // of garbage on the large-object heap for every chunk of every client, which the GC collects late (two clients
        // fetching a 500 MB model grew the coordinator's resident set by 134 MiB; 18 MiB without the copies). Reusing the
        // buffer is safe because WriteAsync serializes the message into the response before it returns.
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await file.ReadAsync(buffer.AsMemory(0, ChunkBytes), context.CancellationToken)) > 0)
            {
                await responseStream.WriteAsync(new ModelChunk
                {
                    FileName = request.FileName, Offset = file.Position - read, Data = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, read)),
                    Sha256 = Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, read))),
                });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override Task<UploadReply> Upload(UploadRequest request, ServerCallContext context)
    {
        string identity = caller.Of(context);
        var engine = runs.Require().Engine;
        var prompt = WireMapping.PromptOf(request.Prompt);
        var privacy = WireMapping.SpendOf(request.Privacy);
        byte[] received = request.Prompt?.ToByteArray() ?? [];
        var (round, count) = engine.AcceptUpload(identity, request.RunId, request.Round, request.BasePromptVersion,
            prompt, received.Length, request.ExampleCount, WireMapping.MetricsOf(request.Metrics), privacy);
        metrics.UpdateAccepted(prompt!.Mode);
        audit.Uploaded(identity, engine.RunId, round, Prompt.NameOf(prompt.Mode), received.Length, Convert.ToHexStringLower(SHA256.HashData(received)),
            request.ExampleCount, privacy?.EpsilonTotal);
        return Task.FromResult(new UploadReply { Round = round, UploadsInRound = count });
    }

    public override Task<HeartbeatReply> Heartbeat(HeartbeatRequest request, ServerCallContext context) =>
        Task.FromResult(new HeartbeatReply { CurrentRound = runs.Require().Engine.Heartbeat(caller.Of(context), request.RunId, request.Activity) });
}
