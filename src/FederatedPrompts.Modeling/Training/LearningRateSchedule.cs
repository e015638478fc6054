namespace FederatedPrompts.Modeling.Training;

/// <summary>Linear warm-up to the peak learning rate, then cosine decay to a floor fraction of it.</summary>
public static class LearningRateSchedule
{
    public static double At(PretrainOptions options, int step)
    {
        if (step < options.WarmupSteps) return options.LearningRate * (step + 1) / options.WarmupSteps;
        double progress = (double)(step - options.WarmupSteps) / Math.Max(1, options.Steps - options.WarmupSteps);
        double floor = options.MinLearningRateFraction;
        return options.LearningRate * (floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress))));
    }
}
