using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using Fed = FederatedPrompts.Protocol.V1.Federation;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// Issue #5 §7, bad input and limits, over real mutual TLS on 127.0.0.1: every refusal is a precise gRPC status whose
/// detail names the problem, it is logged by the coordinator, and nothing the coordinator had already accepted changes.
/// Each test starts its own coordinator, since the refusals depend on the run's state.
/// </summary>
public partial class BadInputTests(TinyFederation setting, ITestOutputHelper output) : IClassFixture<TinyFederation>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    // ------------------------------------------------------------------ identities, enrolment, operator, model download

    [Fact]
    public async Task Identity_enrolment_operator_and_download_refusals_are_precise()
    {
        await using var c = await Start("soft");
        var stranger = c.Federation("stranger");   // a certificate from our CA, but not one of the run's clients
        var one = c.Federation("client-1");
        string runId = c.RunId;

        await c.Refused(StatusCode.PermissionDenied, "\"stranger\" is not admitted", () => stranger.EnrolAsync(SoftEnrol(6)).ResponseAsync);
        await c.Refused(StatusCode.PermissionDenied, "\"stranger\" is not admitted", () => stranger.GetRoundTaskAsync(new RoundTaskRequest { RunId = runId }).ResponseAsync);
        await c.Refused(StatusCode.PermissionDenied, "\"operator\" is not admitted", () => c.Federation("operator").EnrolAsync(SoftEnrol(6)).ResponseAsync);

        // Admitted but not enrolled yet: every call but Enrol is refused as too early.
        await c.Refused(StatusCode.FailedPrecondition, "client-1 is not enrolled", () => one.GetRoundTaskAsync(new RoundTaskRequest { RunId = runId }).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "client-1 is not enrolled", () => one.HeartbeatAsync(new HeartbeatRequest { RunId = runId }).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "client-1 is not enrolled",
            () => one.UploadAsync(new UploadRequest { RunId = runId, Round = 1, Prompt = c.SoftPrompt(2), ExampleCount = 1, Metrics = Metrics() }).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "client-1 is not enrolled",
            () => Download(one, new DownloadModelRequest { ModelIdentity = c.Facts.SmallModelIdentity, FileName = "config.json" }));

        await c.Refused(StatusCode.InvalidArgument, "example_count must be between 1 and the run's max_example_count 100000, got 0", () => one.EnrolAsync(SoftEnrol(0)).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "soft-mode run",
            () => one.EnrolAsync(new EnrolRequest { Mode = Mode.Discrete, ExampleCount = 6 }).ResponseAsync);
        var enrolled = await one.EnrolAsync(SoftEnrol(6));
        Assert.Equal(runId, enrolled.RunId);
        // The limits it will be held to.
        var limits = enrolled.Limits;
        Assert.Equal((4 * 1024 * 1024, c.Facts.MaxPromptLength, c.Facts.MaxVectorNorm, 100_000), (limits.MaxMessageBytes, limits.MaxPromptLength, limits.MaxVectorNorm, limits.MaxExampleCount));
        Assert.Equal((256, 64 * 1024, 256 * 1024), (limits.MaxTextsPerRequest, limits.MaxTextBytes, limits.ChunkBytes));

        // One of the two clients round 1 needs: the round is not open yet.
        await c.Refused(StatusCode.FailedPrecondition, "round 1 is not open",
            () => one.UploadAsync(new UploadRequest { RunId = runId, Round = 1, Prompt = c.SoftPrompt(2), ExampleCount = 6, Metrics = Metrics() }).ResponseAsync);
        await c.Refused(StatusCode.NotFound, "no run \"no-such-run\"", () => one.GetRoundTaskAsync(new RoundTaskRequest { RunId = "no-such-run" }).ResponseAsync);

        // Model download: wrong identity, a file the manifest does not list, an offset past the end.
        var file = enrolled.Model.Files.First(f => f.Size > 0);
        await c.Refused(StatusCode.NotFound, "model 0123abcd is not this run's",
            () => Download(one, new DownloadModelRequest { ModelIdentity = "0123abcd", FileName = file.Name }));
        await c.Refused(StatusCode.NotFound, "no file \"../run.db\"",
            () => Download(one, new DownloadModelRequest { ModelIdentity = enrolled.Model.ModelIdentity, FileName = "../run.db" }));
        await c.Refused(StatusCode.OutOfRange, $"offset {file.Size + 1} is outside {file.Name} ({file.Size} bytes)",
            () => Download(one, new DownloadModelRequest { ModelIdentity = enrolled.Model.ModelIdentity, FileName = file.Name, Offset = file.Size + 1 }));
        await c.Refused(StatusCode.OutOfRange, "offset -1 is outside",
            () => Download(one, new DownloadModelRequest { ModelIdentity = enrolled.Model.ModelIdentity, FileName = file.Name, Offset = -1 }));
        // ...while a resumed download from an offset inside the file works.
        var tail = await Download(one, new DownloadModelRequest { ModelIdentity = enrolled.Model.ModelIdentity, FileName = file.Name, Offset = file.Size - 1 });
        var last = Assert.Single(tail);
        Assert.Equal((file.Size - 1, 1), (last.Offset, last.Data.Length));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(last.Data.Span)), last.Sha256);   // each chunk names its hash

        // Soft-mode clients have no inference service.
        await c.Refused(StatusCode.FailedPrecondition, "soft-mode run",
            () => c.Inference("client-1").ClassifyAsync(new ClassifyRequest { RunId = runId, PromptTokenIds = { 1, 2 }, Texts = { "a lovely day" } }).ResponseAsync);

        // Operator API: a client's certificate is refused; the operator's is served, but the prompt is not published yet.
        await c.Refused(StatusCode.PermissionDenied, "\"client-1\" may not call the operator API", () => c.Operator("client-1").GetStatusAsync(new RunRef()).ResponseAsync);
        await c.Refused(StatusCode.PermissionDenied, "\"client-1\" may not call the operator API", () => c.Operator("client-1").DownloadPromptAsync(new RunRef()).ResponseAsync);
        var op = c.Operator("operator");
        await c.Refused(StatusCode.NotFound, "no run \"other\"", () => op.GetStatusAsync(new RunRef { RunId = "other" }).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "its prompt is published when it finishes", () => op.DownloadPromptAsync(new RunRef()).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "is still running",
            () => op.CreateRunAsync(new CreateRunRequest { ConfigJson = setting.Config("soft").ToJson() }).ResponseAsync);
        var status = await op.GetStatusAsync(new RunRef());
        Assert.Equal(("running", 1, "open", 1), (status.State, status.Round, status.RoundState, status.EnrolledClients));

        Assert.Empty(c.Store.AllUpdates(runId));
        Assert.Equal(new[] { "client-1" }, c.Store.Clients(runId).Select(x => x.ClientId));
    }

    [Fact]
    public async Task A_coordinator_without_a_run_answers_not_found()
    {
        await using var c = await Start(mode: null);
        await c.Refused(StatusCode.NotFound, "the coordinator has no run", () => c.Federation("client-1").EnrolAsync(SoftEnrol(6)).ResponseAsync);
        await c.Refused(StatusCode.NotFound, "the coordinator has no run", () => c.Operator("operator").GetStatusAsync(new RunRef()).ResponseAsync);
    }

    // ------------------------------------------------------------------ soft uploads, rounds, duplicates, size limit

    [Fact]
    public async Task Soft_uploads_are_validated_and_accepted_ones_never_change()
    {
        // 64 KB requests at most; round 1 opens with the first two clients, so client-3 (enrolled later) is not in it.
        await using var c = await Start("soft", maxMessageBytes: 64 * 1024);
        var (one, two, three) = (c.Federation("client-1"), c.Federation("client-2"), c.Federation("client-3"));
        string runId = c.RunId;
        await one.EnrolAsync(SoftEnrol(6));
        await two.EnrolAsync(SoftEnrol(7));
        var task = await UntilTrain(one, runId, 1);
        await UntilTrain(two, runId, 1);
        await three.EnrolAsync(SoftEnrol(8));
        Assert.Equal(RoundTaskReply.Types.Action.Wait, (await three.GetRoundTaskAsync(new RoundTaskRequest { RunId = runId })).Action);

        var global = task.GlobalPrompt.Soft;
        Assert.Equal((c.Facts.HiddenSize, c.Facts.SmallModelIdentity), (global.HiddenSize, global.ModelIdentity));
        int hidden = global.HiddenSize, max = c.Facts.MaxPromptLength;
        UploadRequest Upload(PromptValue prompt, int examples = 6, LocalMetrics? metrics = null, int round = 1, string? run = null) =>
            new() { RunId = run ?? runId, Round = round, BasePromptVersion = task.GlobalPromptVersion, Prompt = prompt, ExampleCount = examples, Metrics = metrics ?? Metrics() };
        PromptValue Soft(int length, int hiddenSize, int values, string? identity = null, Action<float[]>? edit = null)
        {
            var v = Enumerable.Range(0, values).Select(i => 0.01f * (i % 17)).ToArray();
            edit?.Invoke(v);
            return new PromptValue { Soft = new SoftPromptValue { Length = length, HiddenSize = hiddenSize, Values = { v }, ModelIdentity = identity ?? global.ModelIdentity } };
        }
        async Task Invalid(string problem, UploadRequest request) =>
            await c.Refused(StatusCode.InvalidArgument, problem, () => one.UploadAsync(request).ResponseAsync);

        await Invalid($"hidden size 8 differs from the model's {hidden}", Upload(Soft(2, 8, 16)));
        await Invalid($"has {2 * hidden - 1} values, but length 2 × hidden size {hidden} = {2 * hidden}", Upload(Soft(2, hidden, 2 * hidden - 1)));
        await Invalid("at row 1, column 3 is not finite", Upload(Soft(2, hidden, 2 * hidden, edit: v => v[hidden + 3] = float.NaN)));
        await Invalid("at row 0, column 5 is not finite", Upload(Soft(2, hidden, 2 * hidden, edit: v => v[5] = float.PositiveInfinity)));
        await Invalid("at row 0, column 0 is not finite", Upload(Soft(2, hidden, 2 * hidden, edit: v => v[0] = float.NegativeInfinity)));
        await Invalid("is for model feedface, not the run's small model", Upload(Soft(2, hidden, 2 * hidden, identity: "feedface")));
        await Invalid($"soft prompt length {max + 1} exceeds the limit of {max}", Upload(Soft(max + 1, hidden, (max + 1) * hidden)));
        await Invalid("soft prompt is empty", Upload(Soft(0, hidden, 0)));
        await Invalid("expected a soft prompt from client-1, got a discrete prompt",
            Upload(new PromptValue { Discrete = new DiscretePromptValue { TokenIds = { 5, 6 }, TokenizerIdentity = c.Facts.TokenizerIdentity } }));
        await Invalid("the update has no prompt", Upload(new PromptValue()));
        await Invalid("the update has no prompt", new UploadRequest { RunId = runId, Round = 1, BasePromptVersion = task.GlobalPromptVersion, ExampleCount = 6, Metrics = Metrics() });
        await Invalid("example_count 0 must be between 1 and the 6 examples client-1 enrolled with", Upload(c.SoftPrompt(2), examples: 0));
        await Invalid("example_count 7 must be between 1 and the 6 examples client-1 enrolled with", Upload(c.SoftPrompt(2), examples: 7));
        await Invalid("metrics are not valid", Upload(c.SoftPrompt(2), metrics: Metrics(accuracyAfter: double.NaN)));
        await Invalid("metrics are not valid", Upload(c.SoftPrompt(2), metrics: Metrics(accuracyAfter: 1.5)));
        await Invalid("the update has no metrics", new UploadRequest { RunId = runId, Round = 1, BasePromptVersion = task.GlobalPromptVersion, Prompt = c.SoftPrompt(2), ExampleCount = 6 });

        await c.Refused(StatusCode.NotFound, "no run \"elsewhere\"", () => one.UploadAsync(Upload(c.SoftPrompt(2), run: "elsewhere")).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "round 2 is not open; the current round is 1 (collecting)",
            () => one.UploadAsync(Upload(c.SoftPrompt(2), round: 2)).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "client-3 was not sampled in round 1",
            () => three.UploadAsync(Upload(c.SoftPrompt(2), examples: 8)).ResponseAsync);
        // Bigger than the coordinator's 64 KB request limit: refused before any handler reads it.
        await c.Refused(StatusCode.ResourceExhausted, "exceeds the maximum",
            () => one.UploadAsync(Upload(Soft(2000, hidden, 2000 * hidden))).ResponseAsync);

        Assert.Empty(c.Store.AllUpdates(runId));   // nothing of the above was stored

        // The first valid update is accepted; a second one from the same client in the same round is refused and the first stays.
        var first = Upload(c.SoftPrompt(2, 0.25f));
        Assert.Equal(1, (await one.UploadAsync(first)).UploadsInRound);
        await c.Refused(StatusCode.AlreadyExists, "client-1 already uploaded an update for round 1", () => one.UploadAsync(Upload(c.SoftPrompt(2, 0.5f))).ResponseAsync);
        await c.Refused(StatusCode.AlreadyExists, "client-1 already uploaded an update for round 1", () => one.UploadAsync(first).ResponseAsync);
        var stored = Assert.Single(c.Store.Updates(runId, 1));
        Assert.Equal(Encoded(first.Prompt), PromptCodec.Encode(stored.Prompt));
        Assert.Equal(Domain(first.Metrics), stored.Metrics);
        Assert.Equal(6, stored.ExampleCount);
        var accepted = Fingerprint(c.Store.AllUpdates(runId));

        // client-2's update completes round 1; round 2 then collects from all three.
        Assert.Equal(2, (await two.UploadAsync(Upload(c.SoftPrompt(2, -0.25f), examples: 7))).UploadsInRound);
        accepted = Fingerprint(c.Store.AllUpdates(runId));
        await UntilTrain(three, runId, 2);

        await c.Refused(StatusCode.FailedPrecondition, "round 1 is closed to updates; the current round is 2 (collecting)",
            () => three.UploadAsync(Upload(c.SoftPrompt(2), examples: 8)).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "round 1 is closed to updates; the current round is 2 (collecting)",
            () => one.UploadAsync(Upload(c.SoftPrompt(2, 0.75f))).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "round 3 is not open",
            () => one.UploadAsync(Upload(c.SoftPrompt(2), round: 3)).ResponseAsync);

        Assert.Equal(accepted, Fingerprint(c.Store.AllUpdates(runId)));
        Assert.Equal(2, c.Store.AllUpdates(runId).Count);
        var round1 = c.Store.GetRound(runId, 1)!;
        Assert.Equal(RoundState.Closed, round1.State);
        Assert.Equal(new[] { "client-1", "client-2" }, round1.Sampled);
    }

    // ------------------------------------------------------------------ hostile clients (issue #12)

    /// <summary>
    /// An admitted client turned hostile: it raises its example count, uploads huge vectors, an update trained from an
    /// older global prompt, the global prompt unchanged, another client's update, its own update of the last round
    /// relabelled, and a prompt padded with an unknown field. Each is refused with a precise status, or (the padding)
    /// stored without it; honest updates go through and nothing accepted changes.
    /// </summary>
    [Fact]
    public async Task Hostile_updates_and_inflated_counts_are_refused()
    {
        await using var c = await Start("soft", change: r => r with { Rounds = 3 });
        var (one, two) = (c.Federation("client-1"), c.Federation("client-2"));
        string runId = c.RunId;
        await one.EnrolAsync(SoftEnrol(6));
        await c.Refused(StatusCode.InvalidArgument, "client-1 enrolled with 6 examples; the count is fixed at the first enrolment, not 600",
            () => one.EnrolAsync(SoftEnrol(600)).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, "max_example_count 100000, got 2147483647", () => two.EnrolAsync(SoftEnrol(int.MaxValue)).ResponseAsync);
        await one.EnrolAsync(SoftEnrol(6));   // a restarted client enrols again with the same count
        await two.EnrolAsync(SoftEnrol(7));
        Assert.Equal(new[] { 6, 7 }, c.Store.Clients(runId).Select(x => x.ExampleCount));

        var task = await UntilTrain(one, runId, 1);
        Assert.Equal(64, task.GlobalPromptVersion.Length);
        int hidden = c.Facts.HiddenSize;
        double bound = c.Facts.MaxVectorNorm;
        Assert.InRange(bound, 32, 1e3);   // 32 × the largest input-embedding norm, taken as at least 1
        UploadRequest Upload(PromptValue prompt, RoundTaskReply trainedFrom, int examples = 6) => new()
        {
            RunId = runId, Round = trainedFrom.Round, BasePromptVersion = trainedFrom.GlobalPromptVersion, Prompt = prompt, ExampleCount = examples, Metrics = Metrics(),
        };
        PromptValue Vectors(float value, float secondRow) =>
            new() { Soft = new SoftPromptValue { Length = 2, HiddenSize = hidden, ModelIdentity = c.Facts.SmallModelIdentity,
                Values = { Enumerable.Repeat(value, hidden).Concat(Enumerable.Repeat(secondRow, hidden)) } } };
        static UploadRequest Rebased(UploadRequest request, string version)
        {
            var copy = request.Clone();
            copy.BasePromptVersion = version;
            return copy;
        }
        float justAbove = (float)(bound / Math.Sqrt(hidden) * 1.001), justBelow = (float)(bound / Math.Sqrt(hidden) * 0.999);

        await c.Refused(StatusCode.InvalidArgument, "soft prompt vector 1 has L2 norm",
            () => one.UploadAsync(Upload(Vectors(0.01f, 3e38f), task)).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, $"above the run's bound {bound:G4} (soft.max_vector_norm)", () => one.UploadAsync(Upload(Vectors(justAbove, 0.01f), task)).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "the update names no base_prompt_version",
            () => one.UploadAsync(Rebased(Upload(Vectors(0.01f, 0.01f), task), "")).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, $"was trained from global prompt version {new string('0', 64)}, not round 1's {task.GlobalPromptVersion}",
            () => one.UploadAsync(Rebased(Upload(Vectors(0.01f, 0.01f), task), new string('0', 64))).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, "the update is the round's global prompt unchanged: client-1 did no local training",
            () => one.UploadAsync(Upload(task.GlobalPrompt, task)).ResponseAsync);
        var infinite = Upload(Vectors(0.01f, 0.01f), task);
        infinite.Privacy = new PrivacySpend { ClipNorm = 1, EpsilonRound = 1, EpsilonTotal = double.PositiveInfinity };
        await c.Refused(StatusCode.InvalidArgument, "privacy spend is not valid", () => one.UploadAsync(infinite).ResponseAsync);   // a run without DP
        Assert.Empty(c.Store.AllUpdates(runId));

        // An honest update at the bound, padded with a 64 KB field the schema does not know: stored without it.
        var honest = Vectors(justBelow, -justBelow);
        var padded = PromptValue.Parser.ParseFrom([.. honest.ToByteArray(), .. UnknownField(99, 64 * 1024)]);
        Assert.True(padded.CalculateSize() > 64 * 1024);
        var paddedUpload = Upload(padded, task);
        paddedUpload.Metrics = LocalMetrics.Parser.ParseFrom([.. Metrics().ToByteArray(), .. UnknownField(98, 64 * 1024)]);
        await one.UploadAsync(paddedUpload);
        var stored = Assert.Single(c.Store.AllUpdates(runId));
        Assert.Equal(Encoded(honest), PromptCodec.Encode(stored.Prompt));
        Assert.Equal(Domain(Metrics()), stored.Metrics);

        // client-2 copies it: a replay; its own update closes round 1.
        var taskTwo = await UntilTrain(two, runId, 1);
        await c.Refused(StatusCode.InvalidArgument, "identical to the one client-1 uploaded in round 1: a replay",
            () => two.UploadAsync(Upload(honest, taskTwo, examples: 7)).ResponseAsync);
        await two.UploadAsync(Upload(Vectors(0.02f, 0.03f), taskTwo, examples: 7));

        // Round 2: client-1's round-1 update relabelled, naming round 2's version, is a replay too.
        var second = await UntilTrain(one, runId, 2);
        Assert.NotEqual(task.GlobalPromptVersion, second.GlobalPromptVersion);
        await c.Refused(StatusCode.FailedPrecondition, "not round 2's", () => one.UploadAsync(Rebased(Upload(Vectors(0.04f, 0.04f), second), task.GlobalPromptVersion)).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, "identical to the one client-1 uploaded in round 1: a replay",
            () => one.UploadAsync(Upload(honest, second)).ResponseAsync);
        await one.UploadAsync(Upload(Vectors(0.04f, 0.04f), second));
        Assert.Equal(3, c.Store.AllUpdates(runId).Count);
    }

    /// <summary>
    /// Random bytes and broken protobuf, sent as Upload and Enrol requests by an admitted client and by a stranger: each
    /// is answered INVALID_ARGUMENT naming the message type, 40 of them give each identity one short log line and no
    /// stack trace, and the coordinator serves the next valid call as before.
    /// </summary>
    [Fact]
    public async Task Malformed_requests_are_invalid_arguments_logged_once_per_identity()
    {
        await using var c = await Start("soft");
        var random = new Random(5);
        byte[] RandomBytes() { var bytes = new byte[64]; random.NextBytes(bytes); return bytes; }
        byte[][] malformed = [RandomBytes(), [0x0A, 0x7F, 0x01], [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]];
        var raw = Marshallers.Create<byte[]>(bytes => bytes, bytes => bytes);
        Method<byte[], byte[]> Method(string name) => new(MethodType.Unary, "fedprompt.v1.Federation", name, raw, raw);
        async Task<RpcException> Send(string identity, string method, byte[] body) =>
            await Assert.ThrowsAsync<RpcException>(() => c.Invoker(identity).AsyncUnaryCall(Method(method), null, new CallOptions(), body).ResponseAsync);

        var first = await Send("client-1", "Upload", malformed[0]);
        Assert.Equal(StatusCode.InvalidArgument, first.StatusCode);
        Assert.StartsWith("the request is not a valid fedprompt.v1.UploadRequest: ", first.Status.Detail);
        for (var i = 0; i < 40; i++)
        {
            var e = await Send(i % 2 == 0 ? "client-1" : "stranger", i % 3 == 0 ? "Enrol" : "Upload", malformed[i % 3]);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }
        var lines = c.Logs.Lines.Where(l => l.Text.Contains("is not a valid fedprompt.v1.")).ToList();
        Assert.Equal(2, lines.Count);   // one for client-1, one for the stranger, within the 10 s interval
        Assert.Contains(lines, l => l.Text.Contains("from client-1:"));
        Assert.Contains(lines, l => l.Text.Contains("from stranger:"));
        Assert.All(lines, l => Assert.True(l.Text.Length < 400, l.Text));
        Assert.DoesNotContain(c.Logs.Lines, l => l.Level >= LogLevel.Error || l.Text.Contains("   at "));

        var enrolled = await c.Federation("client-1").EnrolAsync(SoftEnrol(6));   // a valid call afterwards
        Assert.Equal(c.RunId, enrolled.RunId);
        Assert.Equal(new[] { "client-1" }, c.Store.Clients(c.RunId).Select(x => x.ClientId));
    }

    /// <summary>A length-delimited field of <paramref name="bytes"/> zero bytes under <paramref name="number"/>, as its wire bytes.</summary>
    static byte[] UnknownField(int number, int bytes)
    {
        using var memory = new MemoryStream();
        var output = new CodedOutputStream(memory);
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(new byte[bytes]));
        output.Flush();
        return memory.ToArray();
    }

    // ------------------------------------------------------------------ discrete uploads and the inference service

    [Fact]
    public async Task Discrete_uploads_and_inference_requests_are_validated_and_metered()
    {
        await using var c = await Start("discrete", change: r => r with { Discrete = r.Discrete with { QueryBudget = 10 } });
        var (one, two, three) = (c.Federation("client-1"), c.Federation("client-2"), c.Federation("client-3"));
        string runId = c.RunId;
        await one.EnrolAsync(DiscreteEnrol(6));
        await two.EnrolAsync(DiscreteEnrol(7));
        var task = await UntilTrain(one, runId, 1);
        await three.EnrolAsync(DiscreteEnrol(8));
        int vocabulary = c.Facts.VocabularySize, max = c.Facts.MaxPromptLength;
        string tokenizer = c.Facts.TokenizerIdentity;
        Assert.Equal(tokenizer, task.GlobalPrompt.Discrete.TokenizerIdentity);

        UploadRequest Upload(PromptValue prompt, PrivacySpend? privacy = null) =>
            new() { RunId = runId, Round = 1, BasePromptVersion = task.GlobalPromptVersion, Prompt = prompt, ExampleCount = 6, Metrics = Metrics(), Privacy = privacy };
        PromptValue Tokens(IEnumerable<int> ids, string? identity = null) =>
            new() { Discrete = new DiscretePromptValue { TokenIds = { ids }, TokenizerIdentity = identity ?? tokenizer } };
        async Task Invalid(string problem, UploadRequest request) =>
            await c.Refused(StatusCode.InvalidArgument, problem, () => one.UploadAsync(request).ResponseAsync);

        await Invalid($"token 1 has id {vocabulary}, outside the vocabulary of {vocabulary}", Upload(Tokens([3, vocabulary, 4])));
        await Invalid("token 2 has negative id -1", Upload(Tokens([3, 4, -1])));
        await Invalid($"uses tokenizer other-tokenizer, not the run's {tokenizer}", Upload(Tokens([3, 4], "other-tokenizer")));
        await Invalid($"discrete prompt length {max + 1} exceeds the limit of {max}", Upload(Tokens(Enumerable.Repeat(5, max + 1))));
        await Invalid("discrete prompt has no tokens", Upload(Tokens([])));
        await Invalid("expected a discrete prompt from client-1, got a soft prompt",
            Upload(new PromptValue { Soft = new SoftPromptValue { Length = 1, HiddenSize = 1, Values = { 0.5f }, ModelIdentity = c.Facts.SmallModelIdentity } }));
        await Invalid("a discrete-mode update carries no privacy spend", Upload(Tokens([3, 4]), new PrivacySpend { ClipNorm = 1 }));

        // Inference: malformed requests are refused before anything is counted.
        var infer = c.Inference("client-1");
        ClassifyRequest Classify(int texts, params int[] prompt) =>
            new() { RunId = runId, PromptTokenIds = { prompt.Length == 0 ? new[] { 3, 4 } : prompt }, Texts = { Enumerable.Range(0, texts).Select(i => $"a lovely day {i}") } };
        await c.Refused(StatusCode.InvalidArgument, "a request classifies 1 to 256 texts, not 0", () => infer.ClassifyAsync(Classify(0)).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, "a request classifies 1 to 256 texts, not 257", () => infer.ClassifyAsync(Classify(257)).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, "the prompt has no tokens",
            () => infer.ClassifyAsync(new ClassifyRequest { RunId = runId, Texts = { "a lovely day" } }).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, $"has id {vocabulary + 5}, outside the vocabulary", () => infer.ClassifyAsync(Classify(2, 3, vocabulary + 5)).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, "has id -2, outside the vocabulary", () => infer.ClassifyAsync(Classify(2, -2)).ResponseAsync);
        await c.Refused(StatusCode.InvalidArgument, $"prompt length {max + 1} exceeds the limit of {max}",
            () => infer.ClassifyAsync(Classify(2, Enumerable.Repeat(5, max + 1).ToArray())).ResponseAsync);
        await c.Refused(StatusCode.NotFound, "no run \"elsewhere\"", () => infer.ClassifyAsync(new ClassifyRequest(Classify(1)) { RunId = "elsewhere" }).ResponseAsync);
        await c.Refused(StatusCode.FailedPrecondition, "client-3 has no open round to query for", () => c.Inference("client-3").ClassifyAsync(Classify(1)).ResponseAsync);
        await c.Refused(StatusCode.PermissionDenied, "\"stranger\" is not admitted", () => c.Inference("stranger").ClassifyAsync(Classify(1)).ResponseAsync);
        Assert.Equal(0, c.Store.QueriesUsed(runId, 1, "client-1"));

        // The budget (10 per round): 8 are served, 3 more would pass it and count nothing, 2 more reach it exactly.
        var served = await infer.ClassifyAsync(Classify(8));
        Assert.Equal((8, 8L, 10L), (served.Labels.Count, served.QueriesUsed, served.QueryBudget));
        await c.Refused(StatusCode.ResourceExhausted, "3 more queries would pass client client-1's budget of 10 for round 1 (8 used)",
            () => infer.ClassifyAsync(Classify(3)).ResponseAsync);
        Assert.Equal(8, c.Store.QueriesUsed(runId, 1, "client-1"));
        Assert.Equal(10, (await infer.ClassifyAsync(Classify(2))).QueriesUsed);
        await c.Refused(StatusCode.ResourceExhausted, "1 more queries would pass", () => infer.ClassifyAsync(Classify(1)).ResponseAsync);
        Assert.Equal(10, c.Store.QueriesUsed(runId, 1, "client-1"));

        Assert.Empty(c.Store.AllUpdates(runId));
        var first = Upload(Tokens([3, 4, 5]));
        Assert.Equal(1, (await one.UploadAsync(first)).UploadsInRound);
        await c.Refused(StatusCode.AlreadyExists, "client-1 already uploaded an update for round 1", () => one.UploadAsync(Upload(Tokens([6, 7]))).ResponseAsync);
        var stored = Assert.Single(c.Store.AllUpdates(runId));
        Assert.Equal(Encoded(first.Prompt), PromptCodec.Encode(stored.Prompt));
        // Once its update is in, the client's round is over: no more queries either way.
        Assert.Equal(RoundTaskReply.Types.Action.Wait, (await one.GetRoundTaskAsync(new RoundTaskRequest { RunId = runId })).Action);
    }

    // ------------------------------------------------------------------ the client library: retry with backoff

    [Fact]
    public async Task A_client_retries_with_backoff_until_the_coordinator_listens_then_completes_the_run()
    {
        var address = new Uri($"https://127.0.0.1:{FreePort()}");
        var (running, events, channel) = RunClient("client-1", 0, address);
        using var _ = channel;

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(running.IsCompleted, running.Exception?.ToString());   // nothing listens yet: still retrying Enrol
        Assert.NotEmpty(events);   // and saying so at every retry, not enrolled yet
        Assert.All(events, e => Assert.StartsWith("no answer from the coordinator (Unavailable", e.What));

        await using var c = await Start("discrete", endpoint: address, change: r => r with { Rounds = 1, MinClients = 1 });
        var summary = await running.WaitAsync(Patience);
        Assert.Equal("client-1", summary.ClientId);
        Assert.Equal(new[] { 1 }, summary.RoundsTrained);
        Assert.Equal(RunState.Finished, c.Engine.State);
        Assert.Single(c.Store.AllUpdates(c.RunId));
    }

    [Fact]
    public async Task A_client_rides_out_a_coordinator_restart_and_continues_the_run()
    {
        var address = new Uri($"https://127.0.0.1:{FreePort()}");
        string database = setting.Combine($"restart-{Guid.NewGuid():N}.db");
        Func<RunConfig, RunConfig> oneRound = r => r with { Rounds = 1 };   // round 1 needs two clients
        var first = await Start("discrete", endpoint: address, database: database, change: oneRound);
        string runId = first.RunId;
        var (one, _, channelOne) = RunClient("client-1", 0, address);
        using var __ = channelOne;
        // client-1 enrols, downloads the model and waits for a second client.
        var until = DateTime.UtcNow + Patience;
        while (first.Engine.Snapshot().Clients.SingleOrDefault(c => c.ClientId == "client-1")?.Activity != "asking for work")
        {
            Assert.True(DateTime.UtcNow < until && !one.IsCompleted, "client-1 did not start waiting for round 1");
            await Task.Delay(50);
        }
        // Liveness is written to the store in batches, within the flush interval (plus the worker's poll).
        var flushed = DateTime.UtcNow + RoundEngine.SeenFlushInterval + TimeSpan.FromSeconds(5);
        while (first.Store.GetClient(runId, "client-1")?.Activity != "asking for work")
        {
            Assert.True(DateTime.UtcNow < flushed, "client-1's liveness never reached the store");
            await Task.Delay(100);
        }
        await first.DisposeAsync();   // the coordinator goes away under the waiting client
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(one.IsCompleted, one.Exception?.ToString());

        await using var second = await Start("discrete", endpoint: address, database: database, change: oneRound);
        Assert.Equal(runId, second.RunId);   // the restarted coordinator resumes the run from its store
        var (two, _, channelTwo) = RunClient("client-2", 1, address);
        using var ___ = channelTwo;
        var summaries = await Task.WhenAll(one, two).WaitAsync(Patience);
        Assert.All(summaries, s => Assert.Equal(new[] { 1 }, s.RoundsTrained));
        Assert.Equal(RunState.Finished, second.Engine.State);
        Assert.Equal(new[] { "client-1", "client-2" }, second.Store.AllUpdates(runId).Select(u => u.ClientId));
    }

    (Task<ClientSummary> Running, ConcurrentQueue<ClientEvent> Events, GrpcChannel Channel) RunClient(string identity, int data, Uri address)
    {
        var channel = CoordinatorChannel.Create(address, setting.Tls(identity), insecure: false, insecureIdentity: null);
        var events = new ConcurrentQueue<ClientEvent>();
        var client = new ClientLoop(channel.CreateCallInvoker(), new DiscreteLocalWork(setting.Data(data)), new ClientLoopOptions
        {
            Identity = identity, CacheDirectory = setting.Combine("cache"), StateDirectory = setting.Combine($"state-{identity}-{Guid.NewGuid():N}"),
            Calls = new CallPolicy { FirstBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromSeconds(1), MaxAttempts = 30 },
        });
        var running = client.RunAsync(new Progress<ClientEvent>(e =>
        {
            events.Enqueue(e);
            output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {e.ClientId} round {e.Round}: {e.What}");
        }));
        return (running, events, channel);
    }

    static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    // ------------------------------------------------------------------ helpers

    static EnrolRequest SoftEnrol(int examples) => new() { Mode = Mode.Soft, ExampleCount = examples };
    static EnrolRequest DiscreteEnrol(int examples) => new() { Mode = Mode.Discrete, ExampleCount = examples };

    static LocalMetrics Metrics(double accuracyAfter = 0.75) =>
        new() { AccuracyBefore = 0.5, AccuracyAfter = accuracyAfter, FinalLoss = 0.6, Steps = 3, Seconds = 0.1 };

    static async Task<List<ModelChunk>> Download(Fed.FederationClient client, DownloadModelRequest request)
    {
        using var call = client.DownloadModel(request);
        var chunks = new List<ModelChunk>();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunks.Add(chunk);
        return chunks;
    }

    static async Task<RoundTaskReply> UntilTrain(Fed.FederationClient client, string runId, int round)
    {
        var until = DateTime.UtcNow + Patience;
        while (true)
        {
            var task = await client.GetRoundTaskAsync(new RoundTaskRequest { RunId = runId });
            if (task.Action == RoundTaskReply.Types.Action.Train && task.Round == round) return task;
            Assert.True(DateTime.UtcNow < until, $"round {round} did not start: {task.Action} round {task.Round}, {task.Reason}");
            await Task.Delay(50);
        }
    }

    /// <summary>What a stored update is, byte for byte.</summary>
    static List<string> Fingerprint(IEnumerable<UpdateRecord> updates) => updates.Select(u =>
        $"{u.Round}/{u.ClientId}/{u.ExampleCount}/{u.ReceivedAt:O}/{Convert.ToHexString(PromptCodec.Encode(u.Prompt))}/{u.Metrics}/{u.Privacy}/{u.Bytes}").ToList();

    /// <summary>How the store encodes the prompt a message carries (a token prompt without the client's text, as the coordinator keeps it).</summary>
    static byte[] Encoded(PromptValue message) => PromptCodec.Encode(PromptMessages.ToPrompt(message) is DiscretePrompt d ? new DiscretePrompt(d.TokenIds, d.TokenizerIdentity) : PromptMessages.ToPrompt(message));

    static LocalWorkMetrics Domain(LocalMetrics m) => new(m.AccuracyBefore, m.AccuracyAfter, m.FinalLoss, m.Steps, m.Queries, m.TokensSent, m.Seconds);

    async Task<Running> Start(string? mode = "soft", Func<RunConfig, RunConfig>? change = null, int? maxMessageBytes = null, Uri? endpoint = null,
        string? database = null)
    {
        var logs = new CapturingLoggerProvider(output);
        var options = new CoordinatorOptions
        {
            Transport = new CoordinatorTransport(endpoint ?? new Uri("https://127.0.0.1:0"), setting.CoordinatorTls, Insecure: false),
            Database = database ?? setting.Combine($"bad-{mode ?? "none"}-{Guid.NewGuid():N}.db"),
            Config = mode is null ? null : setting.Config(mode, change: change),
        };
        if (maxMessageBytes is int limit) options = options with { MaxMessageBytes = limit };
        var host = CoordinatorHost.Create(options, l => l.AddProvider(logs));
        await host.StartAsync();
        return new Running(host, setting, logs);
    }

    /// <summary>A started coordinator, channels to it under any identity, and what it logged.</summary>
    sealed class Running(CoordinatorHost host, TinyFederation setting, CapturingLoggerProvider logs) : IAsyncDisposable
    {
        readonly Dictionary<string, GrpcChannel> _channels = [];
        bool _disposed;

        public CoordinatorHost Host => host;
        public Coordinator.Rounds.RoundEngine Engine => host.Runs.Current!.Engine;
        public string RunId => Engine.RunId;
        public CoordinatorStore Store => host.Runs.Store;
        public Coordinator.Rounds.ModelFacts Facts => host.Runs.Current!.Models.Value.Facts;

        GrpcChannel Channel(string identity)
        {
            if (!_channels.TryGetValue(identity, out var channel))
                _channels[identity] = channel = CoordinatorChannel.Create(host.Address, setting.Tls(identity), insecure: false, insecureIdentity: null);
            return channel;
        }

        public Fed.FederationClient Federation(string identity) => new(Channel(identity));
        public CallInvoker Invoker(string identity) => Channel(identity).CreateCallInvoker();
        public CapturingLoggerProvider Logs => logs;
        public Inference.InferenceClient Inference(string identity) => new(Channel(identity));
        public Operator.OperatorClient Operator(string identity) => new(Channel(identity));

        /// <summary>A well-formed soft prompt for this run's small model, every value <paramref name="value"/>.</summary>
        public PromptValue SoftPrompt(int length, float value = 0.1f) => new()
        {
            Soft = new SoftPromptValue
            {
                Length = length, HiddenSize = Facts.HiddenSize, ModelIdentity = Facts.SmallModelIdentity,
                Values = { Enumerable.Repeat(value, length * Facts.HiddenSize) },
            },
        };

        /// <summary>The call fails with exactly <paramref name="code"/>, its detail names <paramref name="problem"/>, and the coordinator logged it.</summary>
        public async Task<RpcException> Refused<T>(StatusCode code, string problem, Func<Task<T>> call)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(e.StatusCode == code, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
            Assert.Contains(problem, e.Status.Detail);
            Assert.True(logs.Logged(e.Status.Detail, LogLevel.Warning), $"the coordinator did not log a warning with \"{e.Status.Detail}\"");
            return e;
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var channel in _channels.Values) channel.Dispose();
            await host.DisposeAsync();
        }
    }

    /// <summary>Keeps every log line (and passes it to the test output) so tests can check that refusals are logged.</summary>
    sealed class CapturingLoggerProvider(ITestOutputHelper output) : ILoggerProvider
    {
        readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();
        readonly TestOutputLoggerProvider _output = new(output);

        public IReadOnlyList<(LogLevel Level, string Text)> Lines => [.. _lines];

        public bool Logged(string text, LogLevel atLeast) => _lines.Any(l => l.Level >= atLeast && l.Text.Contains(text, StringComparison.Ordinal));

        public ILogger CreateLogger(string categoryName) => new Logger(this, _output.CreateLogger(categoryName));

        public void Dispose() { }

        sealed class Logger(CapturingLoggerProvider owner, ILogger inner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                owner._lines.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception.Message)));
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
