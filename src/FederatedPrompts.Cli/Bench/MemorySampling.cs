using System.Diagnostics;

namespace FederatedPrompts.Cli.Bench;

/// <summary>This process's working set and GC heap.</summary>
public sealed record ThisProcessMemory(long WorkingSet, long GcHeap)
{
    /// <summary>Now; <paramref name="collect"/>: after a full, blocking collection, so the heap is what is still referenced.</summary>
    public static ThisProcessMemory Now(bool collect)
    {
        if (collect)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        using var process = Process.GetCurrentProcess();
        return new ThisProcessMemory(process.WorkingSet64, GC.GetTotalMemory(false));
    }

    public object Json => new { working_set_bytes = WorkingSet, gc_heap_bytes = GcHeap };
}

/// <summary>
/// A process's memory and reads as Linux counts them (/proc/PID/status and /proc/PID/io): resident set (VmRSS, and
/// its anonymous part RssAnon, which is the heap's and libtorch's, not mapped files), the kernel's own peak of the
/// resident set (VmHWM), and the bytes its read system calls returned (rchar: files, not sockets, which .NET reads with
/// recv).
/// </summary>
public sealed record ProcessMemory(long Rss, long RssAnon, long PeakRss, long ReadBytes)
{
    /// <summary>This process's, now.</summary>
    public static ProcessMemory Self() => Read(Environment.ProcessId) ?? throw new InvalidOperationException("/proc/self/status has no memory lines");

    /// <summary>Resets this process's VmHWM, the peak resident set, to its current resident set (clear_refs 5, Linux 4.0+).</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    public double RssMib => Rss / (1024.0 * 1024.0);
    public double PeakRssMib => PeakRss / (1024.0 * 1024.0);

    /// <summary>Now; null once the process has exited (its /proc entry is gone or, as a zombie, has no memory lines).</summary>
    public static ProcessMemory? Read(int pid)
    {
        try
        {
            var status = Fields(File.ReadLines($"/proc/{pid}/status"), ':');
            var io = Fields(File.ReadLines($"/proc/{pid}/io"), ':');
            if (!status.ContainsKey("VmRSS")) return null;
            return new ProcessMemory(Kib(status["VmRSS"]), Kib(status["RssAnon"]), Kib(status["VmHWM"]), long.Parse(io["rchar"]));
        }
        catch (IOException)   // it exited between two reads
        {
            return null;
        }
    }

    static Dictionary<string, string> Fields(IEnumerable<string> lines, char separator) => lines
        .Select(line => line.Split(separator, 2))
        .Where(parts => parts.Length == 2)
        .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim());

    /// <summary>"123456 kB" in bytes.</summary>
    static long Kib(string value) => long.Parse(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]) * 1024;
}

/// <summary>Reads a value every <paramref name="period"/> on a timer and keeps every reading with its time; readings of null are skipped.</summary>
public sealed class PeriodicSampler<T> : IDisposable where T : class
{
    readonly Func<T?> _read;
    readonly Timer _timer;
    readonly List<(DateTimeOffset At, T Value)> _samples = [];

    public PeriodicSampler(Func<T?> read, TimeSpan period)
    {
        _read = read;
        _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, period);
    }

    void Sample()
    {
        if (_read() is not { } value) return;
        var at = DateTimeOffset.UtcNow;
        lock (_samples) _samples.Add((at, value));
    }

    /// <summary>The readings so far (a copy).</summary>
    public IReadOnlyList<(DateTimeOffset At, T Value)> Samples
    {
        get { lock (_samples) return [.. _samples]; }
    }

    /// <summary>Stops the timer, takes one last reading and returns them all.</summary>
    public IReadOnlyList<(DateTimeOffset At, T Value)> Stop()
    {
        _timer.Dispose();
        Sample();
        return Samples;
    }

    public void Dispose() => _timer.Dispose();
}
