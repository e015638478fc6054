using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.TestSupport;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>
/// Classes are scored by their one-token label words, so a preset's words should be whole tokens of the vocabularies the
/// project uses: all of them in GPT-2's (the official code's vocabulary, so nothing is left out there), and enough of them
/// in the 4,096-token vocabulary of a teacher pretrained on Brown that every class keeps words of its own.
/// </summary>
public class TaskPresetVocabularyTests
{
    static IEnumerable<TaskPreset> RealTaskPresets => TaskPreset.All.Where(p => p != TaskPreset.SyntheticSentiment);

    static PromptedClassifier Classifier(TaskPreset preset, ITextTokenizer tokenizer)
    {
        var model = HfCheckpoint.Create(new GptShape(Layers: 1, Hidden: 8, Heads: 2, Context: 16).ToConfig(tokenizer.VocabSize, tokenizer), seed: 1);
        var labels = preset.Verbalizer.Labels;
        return new PromptedClassifier(model, tokenizer, labels, labels.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
    }

    [SharedDataFact]
    public void Every_preset_label_word_is_one_gpt2_token_and_every_class_keeps_words_in_the_brown_vocabulary()
    {
        var gpt2 = TokenizerLoader.FromFolder(SharedData.Under("models", "gpt2-tokenizer"));
        var brown = Cl100kSubsetTokenizer.Train(TextCorpus.Load(SharedData.Under("corpora", "brown.jsonl")), 4096);
        foreach (var preset in RealTaskPresets)
        {
            foreach (var word in preset.Verbalizer.Labels.SelectMany(preset.Verbalizer.WordsFor))
                Assert.True(gpt2.Encode(word).Count == 1, $"{preset.Name}: \"{word}\" is {gpt2.Encode(word).Count} GPT-2 tokens");
            Assert.Empty(Classifier(preset, gpt2).DroppedWords);

            // Building the classifier refuses a class left without words and classes that tie; what it leaves out is exactly
            // the words this vocabulary splits.
            var dropped = Classifier(preset, brown).DroppedWords;
            foreach (var label in preset.Verbalizer.Labels)
                Assert.Equal(preset.Verbalizer.WordsFor(label).Where(w => brown.Encode(w).Count > 1),
                             dropped.Where(d => d.Label == label).Select(d => d.Word));
        }
        // The official sst2 words are common English: the Brown vocabulary keeps most of them.
        var sst2Dropped = Classifier(TaskPreset.Sst2, brown).DroppedWords;
        foreach (var label in TaskPreset.Sst2.Verbalizer.Labels)
            Assert.True(TaskPreset.Sst2.Verbalizer.WordsFor(label).Count - sst2Dropped.Count(d => d.Label == label) >= 3,
                $"sst2 {label} keeps fewer than 3 words: dropped {string.Join(", ", sst2Dropped)}");
    }
}
