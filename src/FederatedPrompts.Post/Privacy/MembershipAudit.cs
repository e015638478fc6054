namespace FederatedPrompts.Post.Privacy;

/// <summary>How well an attack tells members from non-members: ROC AUC, and the true-positive rate at a 1 % false-positive rate.</summary>
public readonly record struct AttackResult(double Auc, double TprAtOnePercentFpr, int Members, int NonMembers);

/// <summary>
/// A membership-inference audit of prompts tuned on random halves of one pool of examples (Carlini et al., "Membership
/// Inference Attacks From First Principles", S&amp;P 2022). Every prompt is a target in turn and the others are its
/// shadows; each (target, example) pair is one guess, a member where the example was in the target's half.
///
/// The statistic is the logit-scaled confidence φ = log(p_y / (1 − p_y)) of the example's true label (Carlini et al.,
/// Section IV-B), which is close to Gaussian across prompts. Two attacks:
/// <list type="bullet">
/// <item>Loss threshold (Yeom et al. 2018): φ itself; members have higher confidence.</item>
/// <item>LiRA, online with fixed variance: a Gaussian over φ of the shadows that held the example (IN) and one over
/// those that did not (OUT), means per example, one variance per side pooled over examples (what Carlini et al.
/// recommend with few shadows); the score is the log-likelihood ratio of the target's φ. Each guess uses as many IN
/// as OUT shadows (with few shadows, unequal sides bias the score; see <see cref="Lira"/>).</item>
/// </list>
/// </summary>
public static class MembershipAudit
{
    /// <summary>
    /// Random halves: each example joins exactly half of the <paramref name="prompts"/> (an even number, at least 4, so
    /// every target leaves at least one IN and one OUT shadow per example). mask[i][m]: example m trains prompt i.
    /// </summary>
    public static bool[][] Halves(int prompts, int examples, int seed)
    {
        if (prompts < 4 || prompts % 2 != 0) throw new ArgumentException($"the audit needs an even number of prompts, at least 4, got {prompts}");
        if (examples < 2) throw new ArgumentException($"the audit needs at least 2 examples, got {examples}");
        var random = new Random(seed);
        var mask = Enumerable.Range(0, prompts).Select(_ => new bool[examples]).ToArray();
        var order = Enumerable.Range(0, prompts).ToArray();
        for (int m = 0; m < examples; m++)
        {
            random.Shuffle(order);
            for (int k = 0; k < prompts / 2; k++) mask[order[k]][m] = true;
        }
        return mask;
    }

    /// <summary>φ = log(p_y/(1 − p_y)) from class scores (logits over classes), stable for confident predictions.</summary>
    public static double LogitConfidence(IReadOnlyList<double> classScores, int label)
    {
        if (label < 0 || label >= classScores.Count) throw new ArgumentException($"label {label} is not one of {classScores.Count} classes");
        double others = double.NegativeInfinity;
        for (int c = 0; c < classScores.Count; c++)
            if (c != label) others = LogSpace.Add(others, classScores[c]);
        return classScores[label] - others;
    }

    /// <summary>The loss-threshold attack over every (target, example) pair of <paramref name="confidence"/>[prompt][example].</summary>
    public static AttackResult LossThreshold(double[][] confidence, bool[][] mask)
    {
        Check(confidence, mask);
        var scores = new List<(double Score, bool Member)>();
        for (int t = 0; t < mask.Length; t++)
            for (int m = 0; m < mask[t].Length; m++) scores.Add((confidence[t][m], mask[t][m]));
        return Evaluate(scores);
    }

    /// <summary>Online LiRA with fixed variance, each prompt the target once and the others its shadows.</summary>
    public static AttackResult Lira(double[][] confidence, bool[][] mask)
    {
        Check(confidence, mask);
        int prompts = mask.Length, examples = mask[0].Length;
        var scores = new List<(double Score, bool Member)>();
        for (int t = 0; t < prompts; t++)
        {
            var inMean = new double[examples];
            var outMean = new double[examples];
            double inSquares = 0, outSquares = 0;
            int inCount = 0, outCount = 0;
            for (int m = 0; m < examples; m++)
            {
                // As many IN as OUT shadows: leaving the target out makes one side a prompt shorter, and means of unequal
                // samples are unequally noisy, which alone moves the score with membership (below chance under no signal
                // when prompts differ as a whole). The side that is longer drops one, chosen by a seeded shuffle.
                var random = new Random(t * examples + m);
                var inShadows = Shuffled(Enumerable.Range(0, prompts).Where(i => i != t && mask[i][m]), random);
                var outShadows = Shuffled(Enumerable.Range(0, prompts).Where(i => i != t && !mask[i][m]), random);
                int shadows = Math.Min(inShadows.Count, outShadows.Count);
                var ins = inShadows.Take(shadows).Select(i => confidence[i][m]).ToList();
                var outs = outShadows.Take(shadows).Select(i => confidence[i][m]).ToList();
                inMean[m] = ins.Average();
                outMean[m] = outs.Average();
                inSquares += ins.Sum(x => (x - inMean[m]) * (x - inMean[m]));
                outSquares += outs.Sum(x => (x - outMean[m]) * (x - outMean[m]));
                inCount += ins.Count - 1;
                outCount += outs.Count - 1;
            }
            // Pooled within-example variances; a floor keeps a side whose shadows all agree from dividing by zero.
            double inVariance = Math.Max(inCount > 0 ? inSquares / inCount : 0, 1e-12);
            double outVariance = Math.Max(outCount > 0 ? outSquares / outCount : 0, 1e-12);
            for (int m = 0; m < examples; m++)
            {
                double x = confidence[t][m];
                double logIn = -0.5 * Math.Log(inVariance) - (x - inMean[m]) * (x - inMean[m]) / (2 * inVariance);
                double logOut = -0.5 * Math.Log(outVariance) - (x - outMean[m]) * (x - outMean[m]) / (2 * outVariance);
                scores.Add((logIn - logOut, mask[t][m]));
            }
        }
        return Evaluate(scores);
    }

    static List<int> Shuffled(IEnumerable<int> items, Random random)
    {
        var list = items.ToArray();
        random.Shuffle(list);
        return [.. list];
    }

    /// <summary>
    /// AUC as the Mann–Whitney statistic (ties count one half), and the largest true-positive rate at a threshold whose
    /// false-positive rate is at most 1 % (a threshold takes all scores at or above it, so tied scores go together).
    /// </summary>
    public static AttackResult Evaluate(IReadOnlyList<(double Score, bool Member)> scores)
    {
        int members = scores.Count(s => s.Member), nonMembers = scores.Count - members;
        if (members == 0 || nonMembers == 0) throw new ArgumentException($"an attack needs members and non-members, got {members} and {nonMembers}");
        if (scores.Any(s => double.IsNaN(s.Score))) throw new ArgumentException("an attack score is NaN");

        var sorted = scores.OrderByDescending(s => s.Score).ToList();
        double auc = 0, bestTpr = 0;
        int truePositives = 0, falsePositives = 0;
        for (int i = 0; i < sorted.Count;)
        {
            int j = i, tiedMembers = 0, tiedNonMembers = 0;
            for (; j < sorted.Count && sorted[j].Score == sorted[i].Score; j++)
                if (sorted[j].Member) tiedMembers++;
                else tiedNonMembers++;
            // The non-members of this group are beaten by every member scored above them; tied pairs count one half.
            auc += tiedNonMembers * (truePositives + tiedMembers / 2.0);
            truePositives += tiedMembers;
            falsePositives += tiedNonMembers;
            if (falsePositives <= 0.01 * nonMembers) bestTpr = (double)truePositives / members;
            i = j;
        }
        return new AttackResult(auc / ((double)members * nonMembers), bestTpr, members, nonMembers);
    }

    static void Check(double[][] confidence, bool[][] mask)
    {
        if (mask.Length < 4 || confidence.Length != mask.Length)
            throw new ArgumentException($"the audit needs at least 4 prompts and one confidence row per prompt, got {mask.Length} masks and {confidence.Length} rows");
        int examples = mask[0].Length;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i].Length != examples || confidence[i].Length != examples)
                throw new ArgumentException($"prompt {i} has {confidence[i].Length} confidences and {mask[i].Length} memberships, not {examples}");
            if (confidence[i].Any(x => !double.IsFinite(x))) throw new ArgumentException($"prompt {i} has a confidence that is not finite");
        }
        for (int m = 0; m < examples; m++)
        {
            int members = mask.Count(row => row[m]);
            if (members < 2 || mask.Length - members < 2)
                throw new ArgumentException($"example {m} is in {members} of {mask.Length} prompts: each target needs IN and OUT shadows");
        }
    }
}
