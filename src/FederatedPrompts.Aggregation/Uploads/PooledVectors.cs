namespace FederatedPrompts.Aggregation.Uploads;

/// <summary>
/// All uploaded vectors of a round in one list (client by client, each in prompt order), with the client and
/// position every vector came from: the form the attention and clustering steps work on.
/// </summary>
public sealed class PooledVectors
{
    PooledVectors(float[][] vectors, int[] client, int[] position, int[] exampleCounts)
    {
        Vectors = vectors;
        Client = client;
        Position = position;
        ExampleCounts = exampleCounts;
    }

    public IReadOnlyList<float[]> Vectors { get; }
    /// <summary>Index (in upload order) of the client that uploaded each vector.</summary>
    public IReadOnlyList<int> Client { get; }
    /// <summary>Position of each vector in its client's prompt, from 0.</summary>
    public IReadOnlyList<int> Position { get; }
    /// <summary>Example count of each client, in upload order.</summary>
    public IReadOnlyList<int> ExampleCounts { get; }
    public int Count => Vectors.Count;
    public int ClientCount => ExampleCounts.Count;
    public int Dimension => Vectors[0].Length;

    /// <summary>Validates the uploads (<see cref="UploadValidation"/>) and pools them.</summary>
    public static PooledVectors From(IReadOnlyList<TokenPromptUpload> uploads)
    {
        UploadValidation.CheckTokens(uploads);
        return Pool(uploads.Select(upload => (upload.Tokens.Select(token => token.Embedding).ToArray(), upload.ExampleCount)).ToArray());
    }

    /// <inheritdoc cref="From(IReadOnlyList{TokenPromptUpload})"/>
    public static PooledVectors From(IReadOnlyList<SoftPromptUpload> uploads)
    {
        UploadValidation.CheckSoft(uploads);
        return Pool(uploads.Select(upload => (upload.Vectors.ToArray(), upload.ExampleCount)).ToArray());
    }

    static PooledVectors Pool((float[][] Vectors, int ExampleCount)[] prompts)
    {
        var vectors = new List<float[]>();
        var client = new List<int>();
        var position = new List<int>();
        for (var k = 0; k < prompts.Length; k++)
            for (var n = 0; n < prompts[k].Vectors.Length; n++)
            {
                vectors.Add(prompts[k].Vectors[n]);
                client.Add(k);
                position.Add(n);
            }
        return new PooledVectors([.. vectors], [.. client], [.. position], prompts.Select(p => p.ExampleCount).ToArray());
    }
}
