using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class TorchLoadsTests
{
    // Fails with TypeInitializationException when the build did not patch libLibTorchSharp.so on an old libstdc++.
    [Fact]
    public void TorchSharp_native_library_loads_and_computes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
    }
}
