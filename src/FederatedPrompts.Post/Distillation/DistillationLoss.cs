using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Post.Distillation;

/// <summary>Weights of the three distillation terms (DistilBERT's defaults) and the softmax temperature.</summary>
public sealed record DistillationWeights(double Ce = 5, double Lm = 2, double Cos = 1, double Temperature = 2);

/// <summary>The weighted total and its three terms (scalar tensors; the total carries the graph).</summary>
public sealed record DistillationLossTerms(Tensor Total, Tensor Kd, Tensor Lm, Tensor Cos);

/// <summary>
/// Knowledge-distillation loss (Hinton et al. 2015; Sanh et al. 2019, DistilBERT):
/// α_ce·T²·KL(p_teacher ‖ p_student) at temperature T + α_lm·CE(student, next token) + α_cos·(1 − cos(h_teacher, h_student)).
/// The KL runs from teacher to student, Σ p_t (log p_t − log p_s), as DistilBERT's KLDivLoss(log p_s, p_t) computes it;
/// T² keeps its gradients on the scale of the hard loss as T changes. Every term is a mean over the positions that
/// <c>mask</c> [B,T] keeps (all when null).
/// </summary>
public static class DistillationLoss
{
    public static DistillationLossTerms Compute(Tensor teacherLogits, Tensor studentLogits, Tensor teacherHidden, Tensor studentHidden,
        Tensor targets, DistillationWeights weights, Tensor? mask = null)
    {
        var kd = SoftTargetKl(teacherLogits, studentLogits, weights.Temperature, mask);
        var lm = NextTokenCrossEntropy(studentLogits, targets, mask);
        var cos = HiddenCosineDistance(teacherHidden, studentHidden, mask);
        return new DistillationLossTerms(weights.Ce * kd + weights.Lm * lm + weights.Cos * cos, kd, lm, cos);
    }

    /// <summary>T²·KL(softmax(teacher/T) ‖ softmax(student/T)), mean over kept positions.</summary>
    public static Tensor SoftTargetKl(Tensor teacherLogits, Tensor studentLogits, double temperature, Tensor? mask = null)
    {
        var teacherLogProbs = F.log_softmax(teacherLogits / temperature, -1);
        var studentLogProbs = F.log_softmax(studentLogits / temperature, -1);
        var perPosition = (teacherLogProbs.exp() * (teacherLogProbs - studentLogProbs)).sum(-1);
        return temperature * temperature * MaskedMean(perPosition, mask);
    }

    /// <summary>Mean next-token cross-entropy of the student over kept positions.</summary>
    public static Tensor NextTokenCrossEntropy(Tensor studentLogits, Tensor targets, Tensor? mask = null)
    {
        var perPosition = F.cross_entropy(studentLogits.reshape(-1, studentLogits.shape[^1]), targets.reshape(-1), reduction: nn.Reduction.None);
        return MaskedMean(perPosition.reshape(targets.shape), mask);
    }

    /// <summary>Mean over kept positions of 1 − cos(teacher hidden, student hidden).</summary>
    public static Tensor HiddenCosineDistance(Tensor teacherHidden, Tensor studentHidden, Tensor? mask = null) =>
        MaskedMean(1 - F.cosine_similarity(teacherHidden, studentHidden, dim: -1), mask);

    static Tensor MaskedMean(Tensor perPosition, Tensor? mask)
    {
        if (mask is null) return perPosition.mean();
        var weights = mask.to_type(perPosition.dtype);
        return (perPosition * weights).sum() / weights.sum().clamp_min(1);
    }
}
