using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.TestSupport;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>
/// Classes are scored by the first token of their label words, so a preset's words must be whole tokens of the
/// vocabularies the project uses: GPT-2's, and the 4,096-token vocabulary of a teacher pretrained on Brown.
/// </summary>
public class TaskPresetVocabularyTests
{
    static IEnumerable<string> LabelWords(TaskPreset preset) => preset.Verbalizer.Labels.SelectMany(preset.Verbalizer.WordsFor);

    [SharedDataFact]
    public void Every_preset_label_word_is_one_token_of_gpt2_and_of_the_brown_vocabulary()
    {
        var gpt2 = TokenizerLoader.FromFolder(SharedData.Under("models", "gpt2-tokenizer"));
        var brown = Cl100kSubsetTokenizer.Train(TextCorpus.Load(SharedData.Under("corpora", "brown.jsonl")), 4096);
        foreach (var preset in TaskPreset.All.Where(p => p != TaskPreset.SyntheticSentiment))
            foreach (var word in LabelWords(preset))
            {
                Assert.True(gpt2.Encode(word).Count == 1, $"{preset.Name}: \"{word}\" is {gpt2.Encode(word).Count} GPT-2 tokens");
                Assert.True(brown.Encode(word).Count == 1, $"{preset.Name}: \"{word}\" is {brown.Encode(word).Count} Brown-vocabulary tokens");
            }
    }
}
