using FederatedPrompts.Modeling.Models;

namespace FederatedPrompts.Modeling.Tests;

public class NativeHeapTests
{
    [Fact]
    public void Glibc_takes_the_fixed_mmap_threshold_on_linux()
    {
        // Debian (and CI) run glibc, whose mallopt answers 1 for a setting it took; elsewhere nothing is changed.
        Assert.Equal(OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6") && !NativeHeap.OperatorChoseThreshold(), NativeHeap.ReturnLargeBlocks());
    }
}
