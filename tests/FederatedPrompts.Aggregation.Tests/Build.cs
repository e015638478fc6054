using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tests;

/// <summary>Builders for small hand-made uploads.</summary>
static class Build
{
    public static float[] V(params float[] values) => values;

    /// <summary>A unit vector at <paramref name="degrees"/> in the plane.</summary>
    public static float[] Angle(double degrees) =>
        [(float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180)];

    public static TokenPromptUpload TokenUpload(string client, params (int Id, float[] Embedding)[] tokens) =>
        new(client, tokens.Select(token => new PromptToken(token.Id, token.Embedding)).ToArray());

    public static SoftPromptUpload SoftUpload(string client, params float[][] vectors) => new(client, vectors);

    public static PooledVectors Pool(params SoftPromptUpload[] uploads) => PooledVectors.From(uploads);
}
