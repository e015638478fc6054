using FederatedPrompts.Core;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class PretrainerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pretrain").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A corpus with an easy pattern: a model that learns anything drives held-out perplexity far down.
    static readonly string[] Documents = Enumerable.Range(0, 40)
        .Select(i => string.Join(" ", Enumerable.Range(0, 30).Select(j => new[] { "one", "two", "three", "four", "five" }[(i + j) % 5])))
        .ToArray();

    static PretrainJobSpec Spec(string dir, int steps, bool resume = false) => new()
    {
        Documents = DocumentSource.Of(Documents), OutputDir = dir, Shape = new GptShape(Layers: 1, Hidden: 32, Heads: 2, Context: 16), VocabSize = 300,
        HeldOutFraction = 0.1, Resume = resume,
        Options = new PretrainOptions { Steps = steps, BatchSize = 8, ContextLength = 16, LearningRate = 3e-3, WarmupSteps = 5, EvalEvery = 10, CheckpointEvery = 10, EvalTokens = 512, Seed = 3 },
    };

    [Fact]
    public void Training_lowers_held_out_perplexity_and_writes_a_loadable_folder()
    {
        var result = PretrainJob.Run(Spec(_dir, 60));
        Assert.Equal(60, result.State.Step);
        var curve = result.State.HeldOutCurve;
        Assert.Equal([0, 10, 20, 30, 40, 50, 60], curve.Select(p => p.Step));
        Assert.True(curve[^1].Perplexity < curve[0].Perplexity / 10, $"perplexity {curve[0].Perplexity:F1} → {curve[^1].Perplexity:F1}");
        Assert.True(result.State.TokensPerSecond > 0);

        using var reloaded = HfCheckpoint.Load(_dir);
        var tokenizer = TokenizerLoader.FromFolder(_dir);
        var ids = tokenizer.Encode("one two three four five one two three four");
        // The reloaded folder is the trained model: far better than the untrained one on the training pattern.
        double nll = LanguageModelScoring.MeanNll(reloaded, ids);
        Assert.True(nll < Math.Log(curve[0].Perplexity) / 2, $"mean NLL {nll} of the reloaded model vs {Math.Log(curve[0].Perplexity)} untrained");
        Assert.True(File.Exists(Path.Combine(_dir, PretrainJob.ReportFile)));
    }

    [Fact]
    public void Prepared_folder_holds_the_split_documents_ids_as_little_endian_uint16_beside_config_and_tokenizer()
    {
        var spec = Spec(_dir, 1);
        var (trainCount, heldOutCount) = PretrainJob.Prepare(spec);

        var tokenizer = TokenizerLoader.FromFolder(_dir);
        var config = TransformerConfig.Load(Path.Combine(_dir, HfCheckpoint.ConfigFileName));
        Assert.Equal((16, 1, 32, tokenizer.VocabSize), (config.MaxPositions, config.NumLayers, config.HiddenSize, config.VocabSize));
        Assert.False(File.Exists(Path.Combine(_dir, SafeTensors.SingleFileName)));   // the other machine initialises the weights

        // The same documents, in the same split, as a run would train on: each one's ids, then end-of-text.
        var split = DocumentSplit.Of(spec.Documents, spec.HeldOutFraction, spec.Options.Seed);
        int[] Expected(IEnumerable<string> documents) => documents.SelectMany(d => tokenizer.Encode(d).Append(tokenizer.EosId!.Value)).ToArray();
        int[] Read(string name)
        {
            var bytes = File.ReadAllBytes(Path.Combine(_dir, PretrainJob.ExportedTokensFolder, name));
            return Enumerable.Range(0, bytes.Length / 2).Select(i => bytes[2 * i] | bytes[2 * i + 1] << 8).ToArray();
        }
        Assert.Equal(Expected(split.Train()), Read("train.u16"));
        Assert.Equal(Expected(split.HeldOut()), Read("held-out.u16"));
        Assert.Equal((Read("train.u16").Length, Read("held-out.u16").Length), ((int)trainCount, (int)heldOutCount));
        Assert.Throws<ArgumentException>(() => PretrainJob.Prepare(Spec(_dir, 1, resume: true)));
    }

    [Fact]
    public void Resumed_run_ends_with_the_weights_of_an_uninterrupted_run()
    {
        string straight = Path.Combine(_dir, "straight"), resumed = Path.Combine(_dir, "resumed");
        var straightRun = PretrainJob.Run(Spec(straight, 30));

        // Interrupt the same 30-step run after step 25; the checkpoint of step 20 is what survives.
        using var interrupt = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PretrainJob.Run(Spec(resumed, 30), new SyncProgress<PretrainProgress>(p => { if (p.Step == 25) interrupt.Cancel(); }), interrupt.Token));
        Assert.Equal(20, Pretrainer.TryLoadCheckpoint(resumed)!.Step);
        var second = PretrainJob.Run(Spec(resumed, 30, resume: true));
        Assert.Equal(30, second.State.Step);
        // Steps 21-30 were trained again after the resume: the same losses mean the same batches, read from a token file the
        // resumed job wrote anew.
        Assert.Equal(straightRun.State.TrainLosses, second.State.TrainLosses);
        Assert.False(Directory.Exists(Path.Combine(resumed, TokenizedCorpus.Folder)), "the scratch token files are deleted");

        using var a = HfCheckpoint.Load(straight);
        using var b = HfCheckpoint.Load(resumed);
        ModelAssert.SameParameters(a, b, "after resume");
    }

    [Fact]
    public void Learning_rate_warms_up_linearly_then_decays_by_cosine_to_the_floor()
    {
        var trainer = new Pretrainer(HfCheckpoint.Create(new GptShape(1, 8, 2, 8).ToConfig(300, Cl100kSubsetTokenizer.Train(Documents, 300)), 1),
            new PretrainOptions { Steps = 110, WarmupSteps = 10, LearningRate = 1.0, MinLearningRateFraction = 0.1 });
        Assert.Equal(0.1, trainer.LearningRateAt(0), 12);
        Assert.Equal(1.0, trainer.LearningRateAt(9), 12);
        Assert.Equal(1.0, trainer.LearningRateAt(10), 12);
        Assert.Equal(0.55, trainer.LearningRateAt(60), 12);   // halfway: floor + (1-floor)/2
        Assert.Equal(0.1, trainer.LearningRateAt(110), 12);
    }

    [Fact]
    public void Split_is_seeded_disjoint_and_keeps_one_document_each_side()
    {
        var docs = Enumerable.Range(0, 10).Select(i => $"doc {i}").ToList();
        var split = DocumentSplit.Of(DocumentSource.Of(docs), 0.2, seed: 5);
        var heldOut = split.HeldOut().ToList();
        Assert.Equal(2, heldOut.Count);
        Assert.Equal(docs.Except(heldOut), split.Train());   // the rest, in source order
        Assert.Equal(heldOut, DocumentSplit.Of(DocumentSource.Of(docs), 0.2, seed: 5).HeldOut());
        Assert.Single(DocumentSplit.Of(DocumentSource.Of(docs[..2]), 0.01, seed: 5).HeldOut());
        Assert.Throws<ArgumentException>(() => DocumentSplit.Of(DocumentSource.Of(docs), 1.0, 5));
        Assert.Throws<ArgumentException>(() => DocumentSplit.Of(DocumentSource.Of(docs[..1]), 0.5, 5));
    }

    [Fact]
    public void Training_windows_come_from_the_token_file_at_offsets_fixed_by_seed_and_step()
    {
        // Token i of the stream is i, so each window's first input is its offset.
        using var stream = TokenStream.Write(Path.Combine(_dir, "ids.int32"), Enumerable.Range(0, 10_000));
        Assert.Equal(10_000, stream.Length);
        var options = new PretrainOptions { BatchSize = 4, ContextLength = 8, Seed = 3 };
        long[] Offsets(int step)
        {
            var (inputs, targets) = TokenWindows.TrainBatch(stream, options, step, CPU);
            using (inputs) using (targets)
            {
                Assert.Equal(inputs + 1, targets);
                var rows = inputs.data<long>().ToArray();
                for (int b = 0; b < 4; b++) Assert.Equal(Enumerable.Range(0, 8).Select(t => rows[b * 8] + t), rows[(b * 8)..(b * 8 + 8)]);
                return [.. Enumerable.Range(0, 4).Select(b => rows[b * 8])];
            }
        }
        // Reference values, the same in every process (a per-process hash seed would change them), so a run resumed by a new
        // process draws the batches it would have drawn: the SplitMix64 finaliser of (3 << 32 | 7) computed in Python, and the
        // offsets System.Random drew from that seed when this test was written.
        Assert.Equal(1_233_877_867, TokenWindows.BatchSeed(3, 7));
        Assert.Equal([8472, 4003, 6500, 3317], Offsets(7));
        Assert.Equal(Offsets(8), Offsets(8));
        Assert.NotEqual(Offsets(7), Offsets(8));
        Assert.NotEqual(TokenWindows.BatchSeed(3, 7), TokenWindows.BatchSeed(4, 7));
    }

    [Fact]
    public void Windows_at_documents_open_with_the_separator_and_a_document_start()
    {
        // Documents of 3 to 9 tokens 1..n, each followed by the separator 0: a token after 0 is always 1, a document's start.
        const int separator = 0;
        var random = new Random(5);
        var ids = Enumerable.Range(0, 400).SelectMany(_ => Enumerable.Range(1, random.Next(3, 10)).Append(separator)).ToArray();
        using var stream = TokenStream.Write(Path.Combine(_dir, "docs.int32"), ids, separator);
        Assert.Equal(Enumerable.Range(0, ids.Length).Where(i => ids[i] == separator).Select(i => (long)i), stream.Separators);

        var options = new PretrainOptions { BatchSize = 64, ContextLength = 12, Seed = 3, WindowsAtDocuments = true };
        var (inputs, targets) = TokenWindows.TrainBatch(stream, options, 7, CPU);
        var rows = inputs.data<long>().ToArray().Chunk(12).ToList();
        Assert.All(rows, row => Assert.Equal([separator, 1], row[..2]));
        Assert.True(rows.Select(row => string.Join(",", row)).Distinct().Count() > 1, "every window is the same");
        Assert.Equal(inputs[.., 1..], targets[.., ..^1]);

        // Without a separator where a window still fits, the error says what is missing.
        using var flat = TokenStream.Write(Path.Combine(_dir, "flat.int32"), Enumerable.Range(1, 100), separator);
        var error = Assert.Throws<ArgumentException>(() => TokenWindows.TrainBatch(flat, options, 0, CPU));
        Assert.Contains("no document separator", error.Message);
    }
}
