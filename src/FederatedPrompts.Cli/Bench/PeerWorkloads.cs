using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FederatedPrompts.Core;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>What <c>bench peer</c> gives both sides: the same texts (as token rows for the peer), labels, prompt and settings.</summary>
public sealed record PeerInputs(int Seed, string Preset, IReadOnlyList<string> Classes, int? BosId, IReadOnlyList<IReadOnlyList<long>> LabelTokenIds,
    float[][] Prompt, PeerInputs.ForwardWork Forward, PeerInputs.TrainingWork Training)
{
    /// <summary>Forward-only classification in batches; the first batch is not timed.</summary>
    public sealed record ForwardWork(int BatchSize, IReadOnlyList<string> Texts, IReadOnlyList<long[]> Rows);

    /// <summary>One batch that every tuning and DP-SGD step takes whole; the first step of each is not timed.</summary>
    public sealed record TrainingWork(IReadOnlyList<string> Texts, IReadOnlyList<int> Labels, IReadOnlyList<long[]> Rows, int Steps,
        double AdamLr, double SgdLr, double ClipNorm, double NoiseMultiplier, double ExpectedBatchSize);
}

/// <summary>One side's measurements, as both the project's worker and bench/peers/torch_peer.py write them.</summary>
public sealed record PeerSideResult(string Side, int Threads, double LoadSeconds, double LoadPeakRssMib, double RssAfterLoadMib,
    PeerSideResult.ForwardPart Forward, PeerSideResult.StepPart Tuning, PeerSideResult.StepPart Dp, string Version)
{
    public sealed record ForwardPart(IReadOnlyList<double> BatchSeconds, double[][] FirstBatchScores, IReadOnlyList<int> Predictions, double PeakRssMib);

    public sealed record StepPart(IReadOnlyList<double> StepSeconds, IReadOnlyList<double> Losses, double PeakRssMib, float[]? FinalPrompt = null);
}

/// <summary>
/// The project's side of <c>bench peer</c> (the hidden command <c>bench peer-worker</c>, one process per model so that
/// its peak memory is its own): loads the model folder as any command does and runs the three workloads through the
/// library's own code — <see cref="PromptedClassifier.Predict"/>, and <see cref="SoftPromptTuner"/> with Adam and with
/// DP-SGD — timing each batch or step. Tokenizing the texts is part of the project's time; the peer gets token ids.
/// </summary>
public static class PeerWorkloads
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (config, weights, tokenizer)", Required = true };
        var inputs = new Option<string>("--inputs") { Description = "Inputs JSON written by bench peer", Required = true };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads", Required = true };
        var output = new Option<string>("--out") { Description = "Results JSON", Required = true };
        var command = new Command("peer-worker", "The project's side of bench peer (run by it)") { model, inputs, threads, output };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var work = JsonSerializer.Deserialize<PeerInputs>(File.ReadAllText(parse.GetValue(inputs)!), CommonOptions.JsonLine)
                       ?? throw new UserInputException($"{parse.GetValue(inputs)}: empty inputs");
            set_num_threads(parse.GetValue(threads));
            var result = Run(parse.GetValue(model)!, work);
            File.WriteAllText(parse.GetValue(output)!, JsonSerializer.Serialize(result, CommonOptions.JsonLine));
            return 0;
        });
        return command;
    }

    static PeerSideResult Run(string modelDir, PeerInputs work)
    {
        var clock = Stopwatch.StartNew();
        using var model = HfCheckpoint.Load(modelDir);
        var tokenizer = TokenizerLoader.FromFolder(modelDir);
        double loadSeconds = clock.Elapsed.TotalSeconds;
        var loaded = ProcessMemory.Self();

        var preset = TaskPreset.Get(work.Preset);
        var classifier = new PromptedClassifier(model, tokenizer, work.Classes, work.Classes.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
        using var prompt = tensor(work.Prompt.SelectMany(row => row).ToArray(), [work.Prompt.Length, work.Prompt[0].Length]);

        ProcessMemory.ResetPeak();
        var forward = Forward(classifier, prompt, work.Forward);
        var examples = work.Training.Texts.Zip(work.Training.Labels, (text, label) => (text, label)).ToList();
        var adam = new TuneOptions { Epochs = work.Training.Steps, BatchSize = examples.Count, Optimizer = PromptOptimizer.Adam, LearningRate = work.Training.AdamLr, Seed = work.Seed };
        ProcessMemory.ResetPeak();
        var tuning = Steps(model, tokenizer, classifier, prompt, examples, adam, keepPrompt: true);
        // With as many examples as the batch, the Poisson rate q = BatchSize / N is 1: every step takes the whole batch.
        var dp = adam with
        {
            Optimizer = PromptOptimizer.Sgd, LearningRate = work.Training.SgdLr, ClipNorm = work.Training.ClipNorm, NoiseMultiplier = work.Training.NoiseMultiplier,
        };
        if (SoftPromptTuner.DpSampleRate(dp, examples.Count) * examples.Count != work.Training.ExpectedBatchSize)
            throw new InvalidOperationException($"a DP step's expected batch is {work.Training.ExpectedBatchSize}, not this tuner's");
        ProcessMemory.ResetPeak();
        var privateSteps = Steps(model, tokenizer, classifier, prompt, examples, dp, keepPrompt: false);
        return new PeerSideResult("project", get_num_threads(), loadSeconds, loaded.PeakRssMib, loaded.RssMib, forward, tuning, privateSteps,
            $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}");
    }

    static PeerSideResult.ForwardPart Forward(PromptedClassifier classifier, Tensor prompt, PeerInputs.ForwardWork work)
    {
        var seconds = new List<double>();
        var predictions = new List<int>();
        var input = new PromptInput(prompt);
        for (int start = 0; start < work.Texts.Count; start += work.BatchSize)
        {
            var batch = work.Texts.Skip(start).Take(work.BatchSize).ToList();
            var clock = Stopwatch.StartNew();
            predictions.AddRange(classifier.Predict(batch, input, work.BatchSize));
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        double[][] scores;
        using (no_grad())
        using (var first = classifier.ClassScores(work.Texts.Take(work.BatchSize).ToList(), input))
        {
            var flat = first.data<float>().ToArray();
            int classes = (int)first.shape[1];
            scores = Enumerable.Range(0, (int)first.shape[0]).Select(r => flat.Skip(r * classes).Take(classes).Select(v => (double)v).ToArray()).ToArray();
        }
        return new PeerSideResult.ForwardPart(seconds, scores, predictions, ProcessMemory.Self().PeakRssMib);
    }

    /// <summary>The tuner's steps, each timed from one progress report to the next (the first from the call).</summary>
    static PeerSideResult.StepPart Steps(CausalLM model, ITextTokenizer tokenizer, PromptedClassifier classifier, Tensor prompt,
        IReadOnlyList<(string Text, int Label)> examples, TuneOptions options, bool keepPrompt)
    {
        var seconds = new List<double>();
        var clock = Stopwatch.StartNew();
        var result = new SoftPromptTuner(model, tokenizer, classifier, options)
            .TuneFrom(prompt, examples, new SyncProgress<TuneProgress>(_ => { seconds.Add(clock.Elapsed.TotalSeconds); clock.Restart(); }));
        double peak = ProcessMemory.Self().PeakRssMib;
        float[]? final = keepPrompt ? result.Prompt.data<float>().ToArray() : null;
        result.Prompt.Dispose();
        return new PeerSideResult.StepPart(seconds, result.Losses, peak, final);
    }
}
