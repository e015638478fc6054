using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Modeling.Models;

/// <summary>Inference-only uses of a <see cref="CausalLM"/>: per-token log-probabilities, mean NLL, greedy generation.</summary>
public static class LanguageModelScoring
{
    /// <summary>logprobs[i] = log p(ids[i+1] | ids[0..i]) for i in 0..n−2.</summary>
    public static double[] TokenLogProbs(CausalLM model, IReadOnlyList<int> ids)
    {
        if (ids.Count < 2) return [];
        if (ids.Count > model.Config.MaxPositions)
            throw new ArgumentException($"{ids.Count} tokens exceed the model's {model.Config.MaxPositions} positions", nameof(ids));
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var input = IdsTensor(model, ids);
        var logProbs = F.log_softmax(model.Logits(input)[0, ..^1], -1);
        var targets = input[0, 1..].unsqueeze(-1);
        var picked = logProbs.gather(-1, targets).squeeze(-1).to(ScalarType.Float64, CPU);
        return picked.data<double>().ToArray();
    }

    /// <summary>Mean negative log-likelihood per predicted token (accumulated in double precision).</summary>
    public static double MeanNll(CausalLM model, IReadOnlyList<int> ids)
    {
        var logProbs = TokenLogProbs(model, ids);
        if (logProbs.Length == 0) throw new ArgumentException("need at least two tokens to score", nameof(ids));
        return -logProbs.Sum() / logProbs.Length;
    }

    /// <summary>
    /// Greedy decoding: appends the most likely token up to <paramref name="maxNewTokens"/> times, stopping after
    /// <paramref name="eosId"/>. Returns only the new tokens. The context is cropped to the model's last
    /// max-positions tokens when it grows beyond them.
    /// </summary>
    public static int[] Generate(CausalLM model, IReadOnlyList<int> promptIds, int maxNewTokens, int? eosId = null)
    {
        if (promptIds.Count == 0) throw new ArgumentException("the prompt must not be empty", nameof(promptIds));
        using var mode = inference_mode();
        var tokens = promptIds.ToList();
        var generated = new List<int>();
        for (int step = 0; step < maxNewTokens; step++)
        {
            using var scope = NewDisposeScope();
            var context = tokens.Skip(Math.Max(0, tokens.Count - model.Config.MaxPositions)).ToList();
            var hidden = model.HiddenStates(model.EmbedTokens(IdsTensor(model, context)));
            int next = (int)model.LmHead(hidden[0, -1]).argmax().item<long>();
            tokens.Add(next);
            generated.Add(next);
            if (next == eosId) break;
        }
        return generated.ToArray();
    }

    static Tensor IdsTensor(CausalLM model, IReadOnlyList<int> ids)
    {
        var device = model.parameters().First().device;
        return tensor(ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64, device: device).unsqueeze(0);
    }
}
