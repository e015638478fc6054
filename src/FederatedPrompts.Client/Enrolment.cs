using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Client;

/// <summary>What the coordinator told a client when it enrolled: who it is in which run, the model to download and the task.</summary>
public sealed record Enrolment(
    string ClientId, string RunId, PromptMode Mode, ModelManifest Model, RunTaskSpec Task, TimeSpan HeartbeatPeriod, InferenceRequestLimits Inference);

/// <summary>The run's model as files to download, each with its SHA-256.</summary>
public sealed record ModelManifest(string ModelIdentity, string TokenizerIdentity, IReadOnlyList<ModelFile> Files);

/// <summary>One file of the model: its name in the model folder, its size and the lowercase hex SHA-256 of its bytes.</summary>
public sealed record ModelFile(string Name, long Size, string Sha256);

/// <summary>How a text becomes a prompted input and which words stand for each label (the run's, shared by all clients), and the public examples the coordinator hands out (null: none).</summary>
public sealed record RunTaskSpec(PromptTemplate Template, Verbalizer Verbalizer, TaskDataset? PublicExamples);

/// <summary>
/// How the client cuts its inference requests so the coordinator's service takes them: at most
/// <see cref="TextsPerRequest"/> texts, each at most <see cref="TextBytes"/> UTF-8 bytes (a longer one is sent as its tail),
/// and at most <see cref="RequestTextBytes"/> bytes of text in one request.
/// </summary>
public sealed record InferenceRequestLimits(int TextsPerRequest, int TextBytes, long RequestTextBytes);
