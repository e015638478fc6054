using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public static class ModelTestSupport
{
    /// <summary>
    /// Gives every parameter a large random value (weights N(0, 0.3), biases N(0, 0.2), norm scales 1 + N(0, 0.2)) so
    /// that each one visibly moves the logits; the 0.02 init would hide many bugs below the comparison tolerance.
    /// </summary>
    public static void Randomize(CausalLM model, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.EndsWith(".bias")) parameter.normal_(0, 0.2, generator);
            else if (parameter.dim() == 1) parameter.normal_(1, 0.2, generator);
            else parameter.normal_(0, 0.3, generator);
        }
    }

    public static int[] RandomIds(int count, int vocab, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();
    }

    /// <summary>Logits [T,V] of one unpadded sequence as nested double arrays.</summary>
    public static double[][] Logits(CausalLM model, int[] ids)
    {
        using var _ = inference_mode();
        using var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        using var logits = model.Logits(input)[0].to(ScalarType.Float64, CPU);
        return Rows(logits);
    }

    public static double[][] Rows(Tensor matrix)
    {
        using var doubles = matrix.to(ScalarType.Float64, CPU).contiguous();
        var flat = doubles.data<double>().ToArray();
        int columns = (int)matrix.shape[1];
        return Enumerable.Range(0, (int)matrix.shape[0]).Select(r => flat[(r * columns)..((r + 1) * columns)]).ToArray();
    }

    public static double MaxAbsDifference(double[][] expected, double[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t].Length, actual[t].Length);
            for (int v = 0; v < expected[t].Length; v++) max = Math.Max(max, Math.Abs(expected[t][v] - actual[t][v]));
        }
        return max;
    }

    /// <summary>Loads the folder with the library and the independent reference; asserts their logits agree within 1e-4.</summary>
    public static double AssertMatchesReference(string dir, int[] ids)
    {
        var model = HfCheckpoint.Load(dir);
        var expected = ReferenceTransformer.Logits(ReferenceCheckpoint.Load(dir), ids);
        double difference = MaxAbsDifference(expected, Logits(model, ids));
        Assert.True(difference < 1e-4, $"max |logit − reference| = {difference:E3} for {dir}");
        // Guard against a vacuous comparison: the logits must actually vary.
        Assert.True(expected.SelectMany(row => row).Max() - expected.SelectMany(row => row).Min() > 0.1, "reference logits are nearly constant");
        return difference;
    }
}
