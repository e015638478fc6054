using System.Security.Cryptography;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Post.Tuning;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>The client-facing service: each call is the caller's identity plus a request, handed to the round engine.</summary>
public sealed class FederationService(RunHost runs, CallerIdentity caller, CoordinatorOptions options) : Federation.FederationBase
{
    const int ChunkBytes = 256 * 1024;
    const int HeartbeatSeconds = 5, RetryAfterMs = 500;

    public override Task<EnrolReply> Enrol(EnrolRequest request, ServerCallContext context)
    {
        var run = runs.Require();
        var client = run.Engine.Enrol(caller.Of(context), request.Mode, request.ExampleCount);
        return Task.FromResult(new EnrolReply
        {
            ClientId = client.ClientId, RunId = run.Engine.RunId, Mode = client.Mode, Model = run.Models.Manifest, Task = run.Task,
            HeartbeatSeconds = HeartbeatSeconds, Limits = LimitsOf(run),
        });
    }

    public override Task<RoundTaskReply> GetRoundTask(RoundTaskRequest request, ServerCallContext context)
    {
        var run = runs.Require();
        var task = run.Engine.NextTask(caller.Of(context), request.RunId);
        var reply = new RoundTaskReply
        {
            Action = task.Action, RunId = run.Engine.RunId, Round = task.Round, TotalRounds = run.Engine.Config.Rounds,
            RetryAfterMs = RetryAfterMs, Reason = task.Reason,
        };
        if (task.Action == RoundTaskReply.Types.Action.Train)
        {
            reply.GlobalPrompt = task.GlobalPrompt;
            reply.GlobalPromptVersion = task.PromptVersion;
            reply.Deadline = Timestamp.FromDateTimeOffset(task.Deadline!.Value);
            reply.Work = LocalWorkOf(run.Engine.Config, task.Seed);
        }
        return Task.FromResult(reply);
    }

    Limits LimitsOf(ActiveRun run)
    {
        var facts = run.Models.Facts;
        return new Limits
        {
            MaxMessageBytes = options.MaxMessageBytes, MaxPromptLength = facts.MaxPromptLength,
            MaxVectorNorm = run.Engine.Config.IsSoft ? facts.MaxVectorNorm : 0, MaxExampleCount = run.Engine.Config.MaxExampleCount,
            MaxTextsPerRequest = InferenceLimits.MaxTextsPerRequest, MaxTextBytes = InferenceLimits.MaxTextBytes, ChunkBytes = ChunkBytes,
        };
    }

    static LocalWork LocalWorkOf(RunConfig config, int seed)
    {
        var work = new LocalWork { Seed = seed };
        if (config.IsSoft)
        {
            work.Soft = new SoftWork
            {
                Epochs = config.Soft.Epochs, BatchSize = config.Soft.BatchSize, LearningRate = config.Soft.LearningRateInUse(),
                Optimizer = config.Soft.OptimizerInUse() == PromptOptimizer.Sgd ? "sgd" : "adam",
            };
            if (config.Soft.Dp is { } dp) work.Soft.Dp = new DpPolicy { ClipNorm = dp.ClipNorm, Epsilon = dp.Epsilon, Delta = dp.Delta ?? 0 };
        }
        else
        {
            var d = config.Discrete;
            work.Discrete = new DiscreteWork
            {
                Iterations = d.Iterations, PositionsPerIteration = d.PositionsPerIteration, CandidatesPerPosition = d.CandidatesPerPosition,
                LocalBatchSize = d.LocalBatchSize, PublicPerLabel = d.PublicPerLabel, UseFeedback = d.UseFeedback, QueryBudget = d.QueryBudget,
                NeighbourEmbeddings = d.NeighbourEmbeddings,
            };
        }
        return work;
    }

    public override async Task DownloadModel(DownloadModelRequest request, IServerStreamWriter<ModelChunk> responseStream, ServerCallContext context)
    {
        var run = runs.Require();
        run.Engine.Heartbeat(caller.Of(context), "", $"downloading {request.FileName}");
        if (request.ModelIdentity != run.Models.Manifest.ModelIdentity)
            throw new RpcException(new Status(StatusCode.NotFound, $"model {request.ModelIdentity} is not this run's ({run.Models.Manifest.ModelIdentity})"));
        var path = run.Models.ModelFilePath(request.FileName)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"the model has no file \"{request.FileName}\""));
        await using var file = File.OpenRead(path);
        if (request.Offset < 0 || request.Offset > file.Length)
            throw new RpcException(new Status(StatusCode.OutOfRange, $"offset {request.Offset} is outside {request.FileName} ({file.Length} bytes)"));
        file.Position = request.Offset;
        var buffer = new byte[ChunkBytes];
        int read;
        while ((read = await file.ReadAsync(buffer, context.CancellationToken)) > 0)
        {
            await responseStream.WriteAsync(new ModelChunk
            {
                FileName = request.FileName, Offset = file.Position - read, Data = ByteString.CopyFrom(buffer, 0, read),
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, read))),
            });
        }
    }

    public override Task<UploadReply> Upload(UploadRequest request, ServerCallContext context)
    {
        var (round, count) = runs.Require().Engine.AcceptUpload(caller.Of(context), request.RunId, request.Round, request.BasePromptVersion,
            request.Prompt, request.ExampleCount, request.Metrics, request.Privacy);
        return Task.FromResult(new UploadReply { Round = round, UploadsInRound = count });
    }

    public override Task<HeartbeatReply> Heartbeat(HeartbeatRequest request, ServerCallContext context) =>
        Task.FromResult(new HeartbeatReply { CurrentRound = runs.Require().Engine.Heartbeat(caller.Of(context), request.RunId, request.Activity) });
}
