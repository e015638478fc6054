using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using static TorchSharp.torch;

namespace FederatedPrompts.Discrete.Tests;

/// <summary>
/// A tiny random GPT-2 and sentiment classifier over a corpus tokenizer, built in milliseconds. Seed 7 is one where a
/// single prompt token visibly changes the answers (some seeds' models barely read the prompt).
/// </summary>
sealed class TinyModel
{
    public static readonly string[] Texts =
    [
        "a joy from start to end", "dull and tired", "a wonderful cast", "the jokes fall flat",
        "moving and bright", "slow and empty", "a lovely little film", "a mess of a plot",
        "the film was great fun", "a tired and dull story", "bright and moving work", "an empty and slow mess",
    ];

    public CausalLM Model { get; }
    public ITextTokenizer Tokenizer { get; }
    public PromptedClassifier Classifier { get; }

    public TinyModel()
    {
        Tokenizer = Cl100kSubsetTokenizer.Train(Texts.Select(t => t + " It was great terrible"), 300);
        Model = HfCheckpoint.Create(new GptShape(Layers: 2, Hidden: 32, Heads: 4, Context: 64).ToConfig(Tokenizer.VocabSize, Tokenizer), seed: 7);
        // At the 0.02 init every logit is nearly equal and a prompt steers nothing; larger weights make the output
        // depend on the input, as a trained model's does.
        using (no_grad())
            foreach (var (_, p) in Model.named_parameters())
                if (p.dim() == 2) p.mul_(10);
        Model.Freeze();
        Classifier = new PromptedClassifier(Model, Tokenizer, ["negative", "positive"], [[" terrible"], [" great"]], t => t + " It was");
    }

    public IReadOnlyList<int> Encode(string text) => Tokenizer.Encode(text);

    public static TaskDataset Dataset(IEnumerable<(string Text, string Label)> examples) =>
        new(examples.Select(e => new LabeledExample(e.Text, e.Label)));
}
