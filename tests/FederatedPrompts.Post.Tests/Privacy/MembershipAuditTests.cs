using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Post.Tests.Privacy;

public class MembershipAuditTests
{
    [Fact]
    public void Auc_and_tpr_at_one_percent_fpr_of_hand_worked_cases()
    {
        // Members 3 and 1, non-members 2 and 0: member beats non-member in 3 of 4 pairs; at FPR 0 the threshold 3 finds one member.
        var small = MembershipAudit.Evaluate([(3, true), (2, false), (1, true), (0, false)]);
        Assert.Equal((0.75, 0.5, 2, 2), (small.Auc, small.TprAtOnePercentFpr, small.Members, small.NonMembers));
        Assert.Equal(1, MembershipAudit.Evaluate([(5, true), (4, true), (1, false)]).Auc);
        Assert.Equal(0, MembershipAudit.Evaluate([(0, true), (4, false), (1, false)]).Auc);
        // Ties count one half, and a threshold takes a whole tie: all tied means AUC 0.5 and no member at FPR ≤ 1 %.
        var tied = MembershipAudit.Evaluate([(1, true), (1, false), (1, true), (1, false)]);
        Assert.Equal((0.5, 0.0), (tied.Auc, tied.TprAtOnePercentFpr));
        Assert.Contains("members and non-members, got 2 and 0", Assert.Throws<ArgumentException>(() => MembershipAudit.Evaluate([(1, true), (2, true)])).Message);
    }

    [Fact]
    public void Halves_put_every_example_in_exactly_half_of_the_prompts_reproducibly()
    {
        var mask = MembershipAudit.Halves(8, 50, seed: 3);
        Assert.All(Enumerable.Range(0, 50), m => Assert.Equal(4, mask.Count(row => row[m])));
        Assert.Equal(mask, MembershipAudit.Halves(8, 50, seed: 3));
        Assert.NotEqual(mask, MembershipAudit.Halves(8, 50, seed: 4));
        Assert.Contains("even number of prompts, at least 4, got 5", Assert.Throws<ArgumentException>(() => MembershipAudit.Halves(5, 10, 1)).Message);
    }

    [Fact]
    public void Logit_confidence_is_the_log_odds_of_the_true_class()
    {
        Assert.Equal(2.0 - 0.5, MembershipAudit.LogitConfidence([2.0, 0.5], 0), 1e-12);
        Assert.Equal(1 - Math.Log(Math.Exp(2) + Math.Exp(-1)), MembershipAudit.LogitConfidence([2.0, 1.0, -1.0], 1), 1e-12);
        Assert.Equal(-800, MembershipAudit.LogitConfidence([0, 800], 0), 1e-9);   // no overflow when confident
    }

    /// <summary>
    /// Synthetic confidences: each example has its own level (spread wide, as easy and hard examples do) and membership
    /// adds 1 with noise 0.5. Thresholding φ alone is blurred by the levels; LiRA compares each example with itself and
    /// sees the shift. Without a shift, both attacks are at chance.
    /// </summary>
    [Fact]
    public void Lira_finds_a_per_example_shift_that_the_loss_threshold_blurs_and_neither_finds_what_is_not_there()
    {
        const int prompts = 16, examples = 400;
        var mask = MembershipAudit.Halves(prompts, examples, seed: 1);
        var random = new Random(2);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var level = Enumerable.Range(0, examples).Select(_ => 4 * Normal()).ToArray();
        double[][] Confidences(double shift) => Enumerable.Range(0, prompts)
            .Select(i => Enumerable.Range(0, examples).Select(m => level[m] + (mask[i][m] ? shift : 0) + 0.5 * Normal()).ToArray()).ToArray();

        var leaky = Confidences(1);
        var loss = MembershipAudit.LossThreshold(leaky, mask);
        var lira = MembershipAudit.Lira(leaky, mask);
        Assert.Equal((prompts * examples / 2, prompts * examples / 2), (lira.Members, lira.NonMembers));
        Assert.InRange(loss.Auc, 0.52, 0.65);   // about Φ(1/√(2·(16 + 0.25))) ≈ 0.57
        Assert.InRange(lira.Auc, 0.85, 0.95);   // about Φ(1/(√2·0.5)) ≈ 0.92
        Assert.True(lira.TprAtOnePercentFpr > 10 * loss.TprAtOnePercentFpr + 0.05, $"LiRA TPR {lira.TprAtOnePercentFpr}, loss {loss.TprAtOnePercentFpr}");

        var private_ = Confidences(0);
        Assert.InRange(MembershipAudit.LossThreshold(private_, mask).Auc, 0.48, 0.52);
        Assert.InRange(MembershipAudit.Lira(private_, mask).Auc, 0.48, 0.52);
    }

    [Fact]
    public void Malformed_audits_are_refused_with_what_is_wrong()
    {
        var mask = MembershipAudit.Halves(4, 3, seed: 1);
        double[][] ok = [[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]];
        Assert.Contains("prompt 2 has 2 confidences", Assert.Throws<ArgumentException>(() => MembershipAudit.Lira([ok[0], ok[1], [0, 1], ok[3]], mask)).Message);
        Assert.Contains("prompt 1 has a confidence that is not finite", Assert.Throws<ArgumentException>(() => MembershipAudit.Lira([ok[0], [0, double.NaN, 2], ok[2], ok[3]], mask)).Message);
        bool[][] lopsided = [[true, true, false], [true, false, true], [true, true, false], [false, false, true]];
        Assert.Contains("example 0 is in 3 of 4 prompts", Assert.Throws<ArgumentException>(() => MembershipAudit.Lira(ok, lopsided)).Message);
    }

    /// <summary>
    /// No membership signal, but strong prompt-level effects (each prompt shifts every example's confidence, as a DP
    /// prompt leaning to one class does). Leave-one-out leaves a target that held the example one IN shadow fewer than
    /// OUT shadows, and the other way round for a target that did not; unequal sides estimate their means with unequal
    /// noise, which alone pushed LiRA's AUC below chance (0.465 measured at ε = 1 on sst2). With as many IN as OUT
    /// shadows per guess, both attacks stay at chance.
    /// </summary>
    [Fact]
    public void Prompt_level_effects_alone_do_not_move_either_attack_off_chance()
    {
        const int prompts = 16, examples = 400;
        var mask = MembershipAudit.Halves(prompts, examples, seed: 5);
        var random = new Random(6);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var level = Enumerable.Range(0, examples).Select(_ => Normal()).ToArray();
        var sign = Enumerable.Range(0, examples).Select(m => m % 2 == 0 ? 1.0 : -1.0).ToArray();   // two classes
        var lean = Enumerable.Range(0, prompts).Select(_ => 3 * Normal()).ToArray();
        var confidence = Enumerable.Range(0, prompts)
            .Select(i => Enumerable.Range(0, examples).Select(m => level[m] + sign[m] * lean[i] + 0.1 * Normal()).ToArray()).ToArray();
        Assert.InRange(MembershipAudit.Lira(confidence, mask).Auc, 0.48, 0.52);
        Assert.InRange(MembershipAudit.LossThreshold(confidence, mask).Auc, 0.48, 0.52);
    }
}
