using System.Globalization;

namespace FederatedPrompts.Aggregation.Uploads;

/// <summary>
/// Rejects a round's uploads that cannot be aggregated, with an <see cref="ArgumentException"/> naming the client and
/// the position: no uploads, a blank or repeated client id, an empty prompt, a non-positive example count, a negative
/// token id, a missing vector, a vector whose dimension differs from the first one seen, or a NaN/infinite value.
/// </summary>
public static class UploadValidation
{
    public static void CheckTokens(IReadOnlyList<TokenPromptUpload> uploads)
    {
        CheckVectors(uploads.Select(upload =>
            (upload.ClientId, (IReadOnlyList<float[]>?)upload.Tokens?.Select(token => token.Embedding).ToArray(), upload.ExampleCount)).ToArray());
        foreach (var upload in uploads)
            for (var n = 0; n < upload.Tokens.Count; n++)
                if (upload.Tokens[n].TokenId < 0)
                    throw new ArgumentException($"client '{upload.ClientId}' position {n}: token id {upload.Tokens[n].TokenId} is negative");
    }

    public static void CheckSoft(IReadOnlyList<SoftPromptUpload> uploads) =>
        CheckVectors(uploads.Select(upload => (upload.ClientId, (IReadOnlyList<float[]>?)upload.Vectors, upload.ExampleCount)).ToArray());

    /// <summary>Checks (client id, vectors, example count) triples, in upload order.</summary>
    public static void CheckVectors(IReadOnlyList<(string ClientId, IReadOnlyList<float[]>? Vectors, int ExampleCount)> uploads)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        if (uploads.Count == 0) throw new ArgumentException("no uploads to aggregate");
        var firstUploadOf = new Dictionary<string, int>(StringComparer.Ordinal);
        (int Dimension, string ClientId)? expected = null;
        for (var u = 0; u < uploads.Count; u++)
        {
            var (clientId, vectors, exampleCount) = uploads[u];
            if (string.IsNullOrWhiteSpace(clientId)) throw new ArgumentException($"upload {u} has no client id");
            if (!firstUploadOf.TryAdd(clientId, u))
                throw new ArgumentException($"client '{clientId}' uploaded twice (uploads {firstUploadOf[clientId]} and {u})");
            if (exampleCount <= 0)
                throw new ArgumentException($"client '{clientId}' reports {exampleCount} examples; must be positive");
            if (vectors is null || vectors.Count == 0) throw new ArgumentException($"client '{clientId}' uploaded an empty prompt");
            for (var n = 0; n < vectors.Count; n++)
            {
                var vector = vectors[n];
                if (vector is null || vector.Length == 0)
                    throw new ArgumentException($"client '{clientId}' position {n}: vector is missing or empty");
                expected ??= (vector.Length, clientId);
                if (vector.Length != expected.Value.Dimension)
                    throw new ArgumentException(
                        $"client '{clientId}' position {n}: vector has {vector.Length} dimensions, expected {expected.Value.Dimension} (as client '{expected.Value.ClientId}')");
                var bad = Array.FindIndex(vector, value => !float.IsFinite(value));
                if (bad >= 0)
                    throw new ArgumentException($"client '{clientId}' position {n}: value {vector[bad].ToString(CultureInfo.InvariantCulture)} at dimension {bad} is not finite");
            }
        }
    }
}
