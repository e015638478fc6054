using FederatedPrompts.Post.Distillation;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Tests.Distillation;

public class DistillationLossTests
{
    static double Value(Tensor t) => t.to_type(ScalarType.Float64).item<double>();

    static double[] Softmax(double[] logits, double temperature)
    {
        var e = logits.Select(l => Math.Exp(l / temperature)).ToArray();
        return e.Select(x => x / e.Sum()).ToArray();
    }

    /// <summary>T²·Σ p_teacher·log(p_teacher/p_student), written out by hand.</summary>
    static double HandKl(double[] teacher, double[] student, double temperature)
    {
        double[] p = Softmax(teacher, temperature), q = Softmax(student, temperature);
        return temperature * temperature * p.Zip(q, (pi, qi) => pi * Math.Log(pi / qi)).Sum();
    }

    [Fact]
    public void Soft_target_kl_is_teacher_to_student_at_temperature_scaled_by_t_squared()
    {
        double[] teacher = [0, Math.Log(3), -1], student = [0.5, 0, 2];
        var kl = DistillationLoss.SoftTargetKl(tensor(teacher).reshape(1, 1, 3), tensor(student).reshape(1, 1, 3), temperature: 2);
        Assert.Equal(HandKl(teacher, student, 2), Value(kl), 10);
        // The direction matters: the reverse KL is a different number on this example.
        Assert.NotEqual(HandKl(student, teacher, 2), Value(kl), 3);
        Assert.Equal(0, Value(DistillationLoss.SoftTargetKl(tensor(teacher).reshape(1, 3), tensor(teacher).reshape(1, 3), 2)), 12);
    }

    [Fact]
    public void Kl_is_a_mean_over_the_positions_the_mask_keeps()
    {
        double[][] teacher = [[0, 1, 2], [3, 0, 0]], student = [[1, 1, 1], [0, 0, 4]];
        var t = tensor(teacher.SelectMany(r => r).ToArray()).reshape(1, 2, 3);
        var s = tensor(student.SelectMany(r => r).ToArray()).reshape(1, 2, 3);
        double first = HandKl(teacher[0], student[0], 2), second = HandKl(teacher[1], student[1], 2);
        Assert.Equal((first + second) / 2, Value(DistillationLoss.SoftTargetKl(t, s, 2)), 10);
        Assert.Equal(first, Value(DistillationLoss.SoftTargetKl(t, s, 2, tensor(new long[] { 1, 0 }).reshape(1, 2))), 10);
    }

    [Fact]
    public void Cosine_distance_is_one_minus_cosine_per_position_masked()
    {
        // Position 0: orthogonal (distance 1); position 1: parallel (0); position 2: opposite (2).
        var teacher = tensor(new double[] { 1, 0, 1, 1, 1, 2 }).reshape(1, 3, 2);
        var student = tensor(new double[] { 0, 3, 2, 2, -2, -4 }).reshape(1, 3, 2);
        Assert.Equal(1.0, Value(DistillationLoss.HiddenCosineDistance(teacher, student)), 10);
        Assert.Equal(0.5, Value(DistillationLoss.HiddenCosineDistance(teacher, student, tensor(new long[] { 1, 1, 0 }).reshape(1, 3))), 10);
        Assert.Equal(2.0, Value(DistillationLoss.HiddenCosineDistance(teacher, student, tensor(new long[] { 0, 0, 1 }).reshape(1, 3))), 10);
    }

    [Fact]
    public void Total_weighs_the_three_terms()
    {
        double[] teacher = [0, Math.Log(3)], student = [0, 0];
        var terms = DistillationLoss.Compute(tensor(teacher).reshape(1, 1, 2), tensor(student).reshape(1, 1, 2),
            tensor(new double[] { 1, 0 }).reshape(1, 1, 2), tensor(new double[] { 1, 1 }).reshape(1, 1, 2),
            tensor(new long[] { 1 }).reshape(1, 1), new DistillationWeights(Ce: 5, Lm: 2, Cos: 1, Temperature: 2));
        double kd = HandKl(teacher, student, 2), lm = Math.Log(2), cos = 1 - 1 / Math.Sqrt(2);
        Assert.Equal(kd, Value(terms.Kd), 10);
        Assert.Equal(lm, Value(terms.Lm), 10);
        Assert.Equal(cos, Value(terms.Cos), 10);
        Assert.Equal(5 * kd + 2 * lm + cos, Value(terms.Total), 10);
    }
}
