namespace FederatedPrompts.Post.Distillation;

/// <summary>Which teacher layers a student keeps: a spec such as "0,-1" or "0,1,-2,-1" (negative counts from the end).</summary>
public static class LayerSelection
{
    public const string Default = "0,-1";

    /// <summary>
    /// The teacher layer indices of <paramref name="spec"/>, resolved against <paramref name="teacherLayers"/>. Indices must lie
    /// in range, be distinct and increase (a student keeps the teacher's layer order); otherwise ArgumentException says which.
    /// </summary>
    public static int[] Parse(string spec, int teacherLayers)
    {
        var parts = spec.Split(',', StringSplitOptions.TrimEntries);
        if (parts.All(string.IsNullOrEmpty)) throw new ArgumentException($"layer list \"{spec}\" names no layer");
        var layers = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], out int index))
                throw new ArgumentException($"layer list \"{spec}\": \"{parts[i]}\" is not a layer index");
            int resolved = index < 0 ? teacherLayers + index : index;
            if (resolved < 0 || resolved >= teacherLayers)
                throw new ArgumentException($"layer list \"{spec}\": layer {index} is out of range for a teacher with {teacherLayers} layers " +
                                            $"(valid: 0..{teacherLayers - 1} or -{teacherLayers}..-1)");
            layers[i] = resolved;
        }
        for (int i = 1; i < layers.Length; i++)
        {
            if (layers.Take(i).Contains(layers[i]))
                throw new ArgumentException($"layer list \"{spec}\": teacher layer {layers[i]} is chosen twice");
            if (layers[i] < layers[i - 1])
                throw new ArgumentException($"layer list \"{spec}\": layers must follow the teacher's order ({layers[i - 1]} comes before {layers[i]})");
        }
        return layers;
    }
}
