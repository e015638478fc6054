namespace FederatedPrompts.Aggregation.Geometry;

/// <summary>
/// One pass over every pair of points for the two readers of pairwise geometry in FedDTPT aggregation: the semantic
/// attention, which needs for each point and each other client the cosine similarity to that client's closest vector,
/// and the <see cref="DistanceMatrix"/> that the eps choice and DBSCAN read. With 1,000 clients × 8 prompt vectors that
/// is 32 M pairs; each reader used to compare all of them again, on one core, and the round's aggregation took over a
/// second. Here each pair is compared once, by the same <see cref="VectorMath"/> calls as a loop over one pair at a
/// time, so every similarity and distance is that loop's to the bit, and the rows are shared out among the cores.
/// <para>The result does not depend on the number of threads: the work items are whole rows (a client's rows when
/// attention is asked for), and every output cell is written by exactly one item, from maxima of exact values.</para>
/// </summary>
static class PairwisePass
{
    /// <summary>
    /// <paramref name="client"/> (each point's client, the points grouped client by client as <c>PooledVectors</c>
    /// pools them; null: no attention) asks for <c>Closest</c>: cell i · <paramref name="clientCount"/> + q holds the
    /// highest cosine similarity of point i to a point of client q (0 for i's own client). <paramref name="metric"/>
    /// (null: no distances) asks for <c>Upper</c>, the distances in <see cref="DistanceMatrix"/>'s layout.
    /// </summary>
    public static (double[]? Closest, double[]? Upper) Run(IReadOnlyList<float[]> points, IReadOnlyList<int>? client, int clientCount, DistanceMetric? metric)
    {
        if (metric is { } known && !Enum.IsDefined(known)) throw new ArgumentOutOfRangeException(nameof(metric), known, null);
        // Arrays, not the interfaces: the inner loop reads them for each of tens of millions of pairs.
        var vectors = points.ToArray();
        var n = vectors.Length;
        var norms = vectors.Select(vector => VectorMath.Norm(vector)).ToArray();
        var upper = metric is null ? null : new double[DistanceMatrix.PairCount(n)];
        var owner = client is null ? null : client.ToArray();
        var starts = owner is null ? null : ClientStarts(owner, clientCount);
        var closest = owner is null ? null : new double[checked(n * clientCount)];
        // A work item is one client's rows, so that the similarities of later points to this client (the column part
        // of Closest, gathered in a buffer of the thread's own) have a single writer; without attention it is one row.
        Parallel.For(0, starts is null ? n : clientCount, () => closest is null ? null : new double[n], (item, _, column) =>
        {
            var (from, to) = starts is null ? (item, item + 1) : (starts[item], starts[item + 1]);
            Rows(from, to, vectors, norms, metric, upper, owner, clientCount, closest, column);
            if (column is not null)
                for (var j = to; j < n; j++) closest![j * clientCount + item] = column[j];
            return column;
        }, _ => { });
        return (closest, upper);
    }

    /// <summary>
    /// Rows <paramref name="from"/> … <paramref name="to"/> − 1 (one client's, with attention) against every later point.
    /// A method of its own rather than the loop's lambda body, so that the arrays are parameters the JIT can keep in
    /// registers, not fields of the closure.
    /// </summary>
    static void Rows(int from, int to, float[][] vectors, double[] norms, DistanceMetric? metric, double[]? upper,
        int[]? owner, int clientCount, double[]? closest, double[]? column)
    {
        var n = vectors.Length;
        var needsCosine = owner is not null || metric == DistanceMetric.Cosine;
        column?.AsSpan(to).Fill(double.NegativeInfinity);
        for (var i = from; i < to; i++)
        {
            var (a, normA) = (vectors[i], norms[i]);
            var row = upper is null ? default : upper.AsSpan(DistanceMatrix.RowStart(i, n), n - 1 - i);
            var best = closest is null ? default : closest.AsSpan(i * clientCount, clientCount);
            // This row's cells of the later clients, kept below; the earlier clients' come from their items' column buffers.
            if (owner is not null) best[(owner[i] + 1)..].Fill(double.NegativeInfinity);
            // Without distances, a client's own points are never compared with each other.
            for (var j = metric is null ? to : i + 1; j < n; j++)
            {
                var similarity = needsCosine ? VectorMath.CosineSimilarity(a, vectors[j], normA, norms[j]) : 0;
                if (metric is { } kind) row[j - i - 1] = Distance(a, vectors[j], normA, norms[j], similarity, kind);
                if (column is null || j < to) continue; // no attention, or a point of the same client
                best[owner![j]] = Math.Max(best[owner[j]], similarity);
                column[j] = Math.Max(column[j], similarity);
            }
        }
    }

    /// <summary>
    /// The distance under <paramref name="metric"/>, exactly 0 for identical vectors: the same token uploaded by several
    /// clients must be one point for DBSCAN even when eps is 0, and 1 − x·x/(‖x‖‖x‖) can round to 2⁻⁵² instead. Identical
    /// vectors have equal norms, so comparing the norms first spares the element-by-element check for nearly every pair.
    /// </summary>
    static double Distance(float[] a, float[] b, double normA, double normB, double similarity, DistanceMetric metric) =>
        normA == normB && VectorMath.Identical(a, b) ? 0 : metric switch
        {
            DistanceMetric.Cosine => Math.Max(0, 1 - similarity),
            _ => VectorMath.EuclideanDistance(a, b),
        };

    /// <summary>starts[q] … starts[q + 1] − 1 are client q's points; ArgumentException unless the points come client by client.</summary>
    static int[] ClientStarts(int[] client, int clientCount)
    {
        var starts = new int[clientCount + 1];
        for (var i = 0; i < client.Length; i++)
        {
            if (client[i] < 0 || client[i] >= clientCount)
                throw new ArgumentException($"point {i} is of client {client[i]}; there are {clientCount} clients");
            if (i > 0 && client[i] < client[i - 1])
                throw new ArgumentException($"point {i} is of client {client[i]} after a point of client {client[i - 1]}: points must come client by client");
            starts[client[i] + 1]++;
        }
        for (var q = 0; q < clientCount; q++) starts[q + 1] += starts[q];
        return starts;
    }
}
