using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using FederatedPrompts.Coordinator.Operations;
using YamlDotNet.RepresentationModel;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// deploy/docker (Dockerfile, compose.yaml), deploy/kubernetes and deploy/systemd against the real command tree: every
/// `fedprompt` command line in them parses without errors (a misspelled or removed flag fails here, not on an operator's
/// cluster); the ports of health checks, probes, published ports and Services are the ones the coordinator's
/// --listen/--ops-listen/--probe-listen name; every file a command reads (certificates, run file, token, private data)
/// is mounted, certificates from the identity's own Secret or file; state lives on a volume that outlives the container.
/// </summary>
public class DeployManifestTests
{
    static string Deploy(params string[] parts) => Repository.Path(["deploy", .. parts]);

    // ---------------------------------------------------------------- the command lines and what they parse to

    sealed record FedpromptLine(string Where, string[] Args)
    {
        public ParseResult Parse() => FedpromptCommands.Root().Parse(Args);
        public string Verb => Args.Length > 0 ? Args[0] : "";
        public override string ToString() => $"{Where}: fedprompt {string.Join(' ', Args)}";
    }

    /// <summary>The value given for an option on the line (null where the line does not give it).</summary>
    static string? Value(FedpromptLine line, string option)
    {
        int at = Array.IndexOf(line.Args, option);
        return at >= 0 && at + 1 < line.Args.Length ? line.Args[at + 1] : null;
    }

    static string Required(FedpromptLine line, string option) =>
        Value(line, option) ?? throw new Xunit.Sdk.XunitException($"{line} does not give {option}");

    static int Port(string url) => new Uri(url).Port;

    sealed record CoordinatorPorts(int Listen, int Ops, int Probe);

    static CoordinatorPorts Ports(FedpromptLine coordinator)
    {
        Assert.Equal("coordinator", coordinator.Verb);
        return new(Port(Required(coordinator, "--listen")), Port(Required(coordinator, "--ops-listen")), Port(Required(coordinator, "--probe-listen")));
    }

    [Fact]
    public void Every_fedprompt_command_line_parses_through_the_real_command_tree()
    {
        var lines = Dockerfile().Lines.Concat(ComposeLines()).Concat(KubernetesLines()).Concat(SystemdLines()).ToList();
        // Every file contributes: a file whose lines were silently not found would make this test pass vacuously.
        foreach (var where in new[] { "Dockerfile CMD", "Dockerfile HEALTHCHECK", "compose coordinator", "compose coordinator healthcheck", "compose hospital-a",
                     "kubernetes StatefulSet/fedprompt-coordinator coordinator", "kubernetes Job/fedprompt-client-hospital-a client", "systemd fedprompt-coordinator.service" })
            Assert.Contains(lines, l => l.Where == where);

        var problems = new List<string>();
        foreach (var line in lines)
        {
            var parse = line.Parse();
            if (parse.Errors.Count > 0) problems.Add($"{line}\n    {string.Join("\n    ", parse.Errors.Select(e => e.Message))}");
            else if (parse.CommandResult.Command.Action is null) problems.Add($"{line}\n    names no command that runs ({parse.CommandResult.Command.Name})");
        }
        Assert.True(problems.Count == 0, $"{problems.Count} of {lines.Count} command lines do not parse:\n{string.Join('\n', problems)}");
    }

    // ---------------------------------------------------------------- Dockerfile

    sealed record DockerfileInfo(FedpromptLine Cmd, FedpromptLine HealthCheck, int[] Exposed, string[] Volumes, string User)
    {
        public IEnumerable<FedpromptLine> Lines => [Cmd, HealthCheck];
    }

    static DockerfileInfo Dockerfile()
    {
        // Instructions as Docker reads them: comment lines dropped, lines ending in \ joined to the next.
        var instructions = new List<string>();
        string pending = "";
        foreach (var raw in File.ReadAllLines(Deploy("docker", "Dockerfile")))
        {
            string line = raw.Trim();
            if (line.StartsWith('#')) continue;
            if (line.EndsWith('\\')) { pending += line[..^1] + " "; continue; }
            if (pending.Length + line.Length > 0) instructions.Add(pending + line);
            pending = "";
        }
        string Last(string keyword) => instructions.Last(i => i.StartsWith(keyword + " ", StringComparison.OrdinalIgnoreCase))[(keyword.Length + 1)..].Trim();
        static string[] Exec(string json) => JsonSerializer.Deserialize<string[]>(json) ?? throw new InvalidDataException(json);

        var entrypoint = Exec(Last("ENTRYPOINT"));
        Assert.Equal(["fedprompt"], entrypoint);
        string health = Last("HEALTHCHECK");
        var healthCommand = Exec(health[(health.IndexOf(" CMD ", StringComparison.Ordinal) + 5)..]);
        Assert.Equal("fedprompt", healthCommand[0]);
        return new DockerfileInfo(
            new FedpromptLine("Dockerfile CMD", Exec(Last("CMD"))),
            new FedpromptLine("Dockerfile HEALTHCHECK", healthCommand[1..]),
            Last("EXPOSE").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(),
            Last("VOLUME").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            Last("USER"));
    }

    [Fact]
    public void Dockerfile_health_check_exposed_ports_and_volume_match_its_coordinator_command()
    {
        var docker = Dockerfile();
        var ports = Ports(docker.Cmd);
        Assert.Equal(new[] { ports.Listen, ports.Ops, ports.Probe }.Order(), docker.Exposed.Order());
        AssertHealthCommandReaches(docker.HealthCheck, ports);
        // The state database is on the declared volume; the user is not root.
        Assert.Contains(docker.Volumes, v => IsUnder(Required(docker.Cmd, "--db"), v));
        Assert.DoesNotMatch(@"^(root|0)(:|$)", docker.User);
    }

    static void AssertHealthCommandReaches(FedpromptLine health, CoordinatorPorts ports)
    {
        Assert.Equal("health", health.Verb);
        var target = new Uri(Required(health, "--coordinator"));
        Assert.Equal("http", target.Scheme);                // the probe listener is plaintext h2c
        Assert.True(target.IsLoopback, $"{health} runs inside the coordinator's container: it should ask 127.0.0.1");
        Assert.Equal(ports.Probe, target.Port);
    }

    // ---------------------------------------------------------------- compose

    static YamlMappingNode Compose() => (YamlMappingNode)LoadYaml(Deploy("docker", "compose.yaml")).Single();

    static IEnumerable<(string Name, YamlMappingNode Service)> Services() =>
        Map(Compose(), "services").Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, (YamlMappingNode)kv.Value));

    static IEnumerable<FedpromptLine> ComposeLines()
    {
        foreach (var (name, service) in Services())
        {
            // The image's ENTRYPOINT is fedprompt, so `command:` is its arguments; a list, so no shell splits it.
            Assert.False(service.Children.ContainsKey("entrypoint"), $"compose {name} replaces the entrypoint");
            yield return new FedpromptLine($"compose {name}", Strings(service, "command"));
            if (Find(service, "healthcheck") is YamlMappingNode check && Find(check, "test") is YamlSequenceNode test)
            {
                var words = test.Children.Select(Scalar).ToArray();
                Assert.Equal(["CMD", "fedprompt"], words[..2]);
                yield return new FedpromptLine($"compose {name} healthcheck", words[2..]);
            }
        }
    }

    sealed record ComposeMount(string Source, string Target, bool ReadOnly);

    static List<ComposeMount> Mounts(YamlMappingNode service) =>
        Find(service, "volumes") is YamlSequenceNode volumes
            ? volumes.Children.Select(v => Scalar(v).Split(':')).Select(p => new ComposeMount(p[0], p[1], p.Length > 2 && p[2].Split(',').Contains("ro"))).ToList()
            : [];

    [Fact]
    public void Compose_ports_health_check_and_client_addresses_agree_with_the_coordinator()
    {
        var services = Services().ToDictionary(s => s.Name, s => s.Service);
        var lines = ComposeLines().ToList();
        var coordinatorLine = lines.Single(l => l.Verb == "coordinator");
        string coordinatorName = coordinatorLine.Where["compose ".Length..];
        var ports = Ports(coordinatorLine);
        var coordinator = services[coordinatorName];

        AssertHealthCommandReaches(lines.Single(l => l.Where == $"compose {coordinatorName} healthcheck"), ports);

        // Published ports: only the gRPC and ops listeners, and the plaintext ops port on this host's loopback only.
        var published = Find(coordinator, "ports") is YamlSequenceNode list ? list.Children.Select(Scalar).ToList() : [];
        foreach (var entry in published)
        {
            var parts = entry.Split(':');
            int container = int.Parse(parts[^1].Split('/')[0]);
            Assert.True(container == ports.Listen || container == ports.Ops, $"compose publishes {entry}, which is neither --listen nor --ops-listen");
            if (container == ports.Ops) Assert.True(parts.Length == 3 && parts[0] == "127.0.0.1", $"the ops port is published beyond 127.0.0.1: {entry}");
        }
        Assert.Contains(published, p => p.Split(':')[^1] == $"{ports.Ops}");

        var clients = lines.Where(l => l.Verb == "client").ToList();
        Assert.NotEmpty(clients);
        foreach (var client in clients)
        {
            var address = new Uri(Required(client, "--coordinator"));
            Assert.Equal(("https", coordinatorName, ports.Listen), (address.Scheme, address.Host, address.Port));
            // The image's HEALTHCHECK asks the coordinator's probe port, which a client container does not have.
            var service = services[client.Where["compose ".Length..]];
            Assert.True(Find(service, "healthcheck") is YamlMappingNode h && Scalar(Find(h, "disable")!) == "true", $"{client.Where}: healthcheck not disabled");
        }
    }

    [Fact]
    public void Compose_mounts_every_file_its_commands_read_and_keeps_state_on_named_volumes()
    {
        var named = Map(Compose(), "volumes").Children.Keys.Select(Scalar).ToHashSet();
        var services = Services().ToDictionary(s => s.Name, s => s.Service);
        foreach (var line in ComposeLines().Where(l => l.Verb is "coordinator" or "client"))
        {
            var mounts = Mounts(services[line.Where["compose ".Length..]]);
            Assert.DoesNotContain(mounts, m => Path.GetFileName(m.Source) == "ca.key");
            foreach (var file in Reads(line))
            {
                var mount = mounts.Where(m => IsUnder(file, m.Target)).MaxBy(m => m.Target.Length);
                Assert.True(mount is not null, $"{line}\n    reads {file}, which no volume mounts");
                Assert.True(mount.ReadOnly, $"{line}\n    {file} is mounted writable");
                // A certificate or key is mounted under its own name: hospital-a gets hospital-a.key, not another's.
                if (file.EndsWith(".crt") || file.EndsWith(".key")) Assert.Equal(Path.GetFileName(file), Path.GetFileName(mount.Source));
            }
            foreach (var path in Writes(line))
            {
                var mount = mounts.Where(m => IsUnder(path, m.Target)).MaxBy(m => m.Target.Length);
                Assert.True(mount is not null && named.Contains(mount.Source) && !mount.ReadOnly, $"{line}\n    writes {path}, which is not on a named volume");
            }
        }
        // Organizations are the run file's admitted clients.
        var admitted = RunFileClients(File.ReadAllText(Deploy("run.example.json")));
        foreach (var client in ComposeLines().Where(l => l.Verb == "client")) Assert.Contains(Required(client, "--identity"), admitted);
    }

    // ---------------------------------------------------------------- Kubernetes

    static List<YamlMappingNode> KubernetesObjects() =>
        Directory.GetFiles(Deploy("kubernetes"), "*.yaml").Order().SelectMany(LoadYaml).OfType<YamlMappingNode>().ToList();

    static string Kind(YamlMappingNode o) => Scalar(Find(o, "kind")!);
    static string Name(YamlMappingNode o) => Scalar(Find(Map(o, "metadata"), "name")!);

    static IEnumerable<(string Where, YamlMappingNode Workload, YamlMappingNode Pod)> PodTemplates() =>
        KubernetesObjects().Where(o => Kind(o) is "StatefulSet" or "Deployment" or "Job" or "DaemonSet")
            .Select(o => ($"{Kind(o)}/{Name(o)}", o, Map(Map(Map(o, "spec"), "template"), "spec")));

    static IEnumerable<YamlMappingNode> Containers(YamlMappingNode pod) =>
        new[] { "initContainers", "containers" }.Select(key => Find(pod, key)).OfType<YamlSequenceNode>().SelectMany(s => s.Children.Cast<YamlMappingNode>());

    static IEnumerable<(FedpromptLine Line, string Workload, YamlMappingNode Container, YamlMappingNode Pod, YamlMappingNode Owner)> KubernetesCommands()
    {
        foreach (var (where, workload, pod) in PodTemplates())
            foreach (var container in Containers(pod))
            {
                // Without `command:` the image's ENTRYPOINT (fedprompt) runs with `args:`.
                string[] command = Find(container, "command") is null ? ["fedprompt"] : Strings(container, "command");
                string[] args = Find(container, "args") is null ? [] : Strings(container, "args");
                if (command[0] != "fedprompt") continue;   // e.g. the init container that waits for the models
                yield return (new FedpromptLine($"kubernetes {where} {Scalar(Find(container, "name")!)}", [.. command[1..], .. args]), where, container, pod, workload);
            }
    }

    static IEnumerable<FedpromptLine> KubernetesLines() => KubernetesCommands().Select(c => c.Line);

    /// <summary>A probe's or Service's port: a number, or the name of one of the container's ports.</summary>
    static int ContainerPort(YamlMappingNode container, string port) =>
        int.TryParse(port, out int number) ? number
            : Find(container, "ports") is YamlSequenceNode ports
              && ports.Children.Cast<YamlMappingNode>().FirstOrDefault(p => Find(p, "name") is { } n && Scalar(n) == port) is { } named
                ? int.Parse(Scalar(Find(named, "containerPort")!))
                : throw new Xunit.Sdk.XunitException($"no container port named {port}");

    [Fact]
    public void Kubernetes_probes_are_grpc_on_the_probe_port_and_the_service_reaches_the_listeners()
    {
        var coordinator = KubernetesCommands().Single(c => c.Line.Verb == "coordinator");
        var ports = Ports(coordinator.Line);
        var container = coordinator.Container;
        Assert.Equal("StatefulSet", Kind(coordinator.Owner));
        Assert.Equal("1", Scalar(Find(Map(coordinator.Owner, "spec"), "replicas")!));   // one SQLite file, one writer

        var declared = ((YamlSequenceNode)Find(container, "ports")!).Children.Cast<YamlMappingNode>().Select(p => int.Parse(Scalar(Find(p, "containerPort")!))).ToList();
        Assert.Equal(new[] { ports.Listen, ports.Ops, ports.Probe }.Order(), declared.Order());

        foreach (var kind in new[] { "livenessProbe", "readinessProbe" }) Assert.NotNull(Find(container, kind));
        foreach (var kind in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            if (Find(container, kind) is not YamlMappingNode probe) continue;
            // Kubelet gRPC probes speak plaintext HTTP/2: only the --probe-listen listener can answer them.
            Assert.True(Find(probe, "grpc") is YamlMappingNode, $"{kind} is not a grpc probe");
            Assert.Equal(ports.Probe, ContainerPort(container, Scalar(Find(Map(probe, "grpc"), "port")!)));
            foreach (var other in new[] { "httpGet", "tcpSocket", "exec" }) Assert.Null(Find(probe, other));
            // Liveness asks the service that only says the process answers; readiness and startup the coordinator's verdict.
            string asked = Find(Map(probe, "grpc"), "service") is { } named ? Scalar(named) : "";
            Assert.Equal(kind == "livenessProbe" ? CoordinatorHealthCheck.LivenessService : "", asked);
        }

        // The Service selects the coordinator's Pod and targets its listeners; clients dial the Service on the gRPC port.
        string governing = Scalar(Find(Map(coordinator.Owner, "spec"), "serviceName")!);
        var service = KubernetesObjects().Single(o => Kind(o) == "Service" && Name(o) == governing);
        var selector = Map(Map(service, "spec"), "selector").Children.ToDictionary(kv => Scalar(kv.Key), kv => Scalar(kv.Value));
        var podLabels = Map(Map(Map(Map(coordinator.Owner, "spec"), "template"), "metadata"), "labels").Children.ToDictionary(kv => Scalar(kv.Key), kv => Scalar(kv.Value));
        foreach (var (key, value) in selector) Assert.Equal(value, podLabels.GetValueOrDefault(key));
        var servicePorts = ((YamlSequenceNode)Find(Map(service, "spec"), "ports")!).Children.Cast<YamlMappingNode>()
            .Select(p => (Port: int.Parse(Scalar(Find(p, "port")!)), Target: ContainerPort(container, Scalar(Find(p, "targetPort") ?? Find(p, "port")!)))).ToList();
        foreach (var (_, target) in servicePorts) Assert.Contains(target, new[] { ports.Listen, ports.Ops });
        int grpcServicePort = servicePorts.Single(p => p.Target == ports.Listen).Port;

        var clients = KubernetesCommands().Where(c => c.Line.Verb == "client").ToList();
        Assert.NotEmpty(clients);
        foreach (var (client, _, _, _, _) in clients)
        {
            var address = new Uri(Required(client, "--coordinator"));
            Assert.Equal("https", address.Scheme);
            Assert.True(address.Host == governing || address.Host.StartsWith(governing + "."), $"{client} does not dial the Service {governing}");
            Assert.Equal(grpcServicePort, address.Port);
        }
    }

    [Fact]
    public void Kubernetes_mounts_certificates_from_each_identitys_secret_config_from_the_configmap_and_state_on_volumes()
    {
        var objects = KubernetesObjects();
        foreach (var (line, where, container, pod, owner) in KubernetesCommands())
        {
            var volumes = ((YamlSequenceNode)Find(pod, "volumes")!).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(Find(v, "name")!));
            var claims = Find(Map(owner, "spec"), "volumeClaimTemplates") is YamlSequenceNode templates
                ? templates.Children.Cast<YamlMappingNode>().Select(Name).ToHashSet() : [];
            var mounts = ((YamlSequenceNode)Find(container, "volumeMounts")!).Children.Cast<YamlMappingNode>()
                .Select(m => (Name: Scalar(Find(m, "name")!), Path: Scalar(Find(m, "mountPath")!), ReadOnly: Find(m, "readOnly") is { } r && Scalar(r) == "true")).ToList();
            string Source(string volume) => claims.Contains(volume) ? "volumeClaimTemplate"
                : volumes.TryGetValue(volume, out var v) ? v.Children.Keys.Select(Scalar).Single(k => k != "name") : throw new Xunit.Sdk.XunitException($"{line}: no volume {volume}");

            // ca.key never enters the cluster: no Secret or ConfigMap item names it.
            foreach (var item in volumes.Values.SelectMany(v => v.Children.Values.OfType<YamlMappingNode>()).Select(s => Find(s, "items")).OfType<YamlSequenceNode>().SelectMany(s => s.Children.Cast<YamlMappingNode>()))
                Assert.NotEqual("ca.key", Scalar(Find(item, "key")!));

            foreach (var file in Reads(line))
            {
                var mount = mounts.Where(m => IsUnder(file, m.Path)).MaxBy(m => m.Path.Length);
                Assert.True(mount.Name is not null, $"{line}\n    reads {file}, which no volume mounts");
                string source = Source(mount.Name);
                string relative = Path.GetRelativePath(mount.Path, file);
                bool certificate = file.EndsWith(".crt") || file.EndsWith(".key") || Value(line, "--dashboard-token-file") == file;
                if (certificate || Value(line, "--config") == file)
                {
                    // From a Secret (credentials) or the ConfigMap (run file), listing the file among its items, so a
                    // Secret made without it fails the Pod at mount time instead of the coordinator at start.
                    Assert.Equal(certificate ? "secret" : "configMap", source);
                    var items = (YamlSequenceNode)Find(Map(volumes[mount.Name], source), "items")!;
                    Assert.Contains(items.Children.Cast<YamlMappingNode>(), i => Scalar(Find(i, "path")!) == relative && Scalar(Find(i, "key")!) == relative);
                    Assert.True(mount.ReadOnly, $"{line}: {file} is mounted writable");
                }
                else Assert.True(source is "persistentVolumeClaim" or "volumeClaimTemplate", $"{line}\n    reads {file} from a {source}");
            }
            foreach (var path in Writes(line))
            {
                var mount = mounts.Where(m => IsUnder(path, m.Path)).MaxBy(m => m.Path.Length);
                Assert.True(mount.Name is not null && !mount.ReadOnly, $"{line}\n    writes {path}, which is not on a writable volume");
                string source = Source(mount.Name);
                // The coordinator's database and a client's privacy ledger must outlive the Pod; a model cache may not.
                bool durable = path == Value(line, "--db") || path == Value(line, "--state") || path == Value(line, "--audit-log");
                Assert.True(durable ? source is "persistentVolumeClaim" or "volumeClaimTemplate" : source is "persistentVolumeClaim" or "volumeClaimTemplate" or "emptyDir",
                    $"{line}\n    writes {path} to a {source}");
            }
            if (line.Verb == "coordinator") Assert.Contains(mounts, m => IsUnder(Required(line, "--db"), m.Path) && claims.Contains(m.Name));
        }

        // The ConfigMap's run file admits every organization that has a client Job, and is the example's run otherwise.
        var configMap = objects.Single(o => Kind(o) == "ConfigMap");
        string runJson = Scalar(Find(Map(configMap, "data"), "run.json")!);
        var admitted = RunFileClients(runJson);
        foreach (var client in KubernetesLines().Where(l => l.Verb == "client")) Assert.Contains(Required(client, "--identity"), admitted);
        var example = JsonDocument.Parse(File.ReadAllText(Deploy("run.example.json"))).RootElement.EnumerateObject().Select(p => p.Name);
        Assert.Equal(example.Order(), JsonDocument.Parse(runJson).RootElement.EnumerateObject().Select(p => p.Name).Order());
    }

    // ---------------------------------------------------------------- systemd

    static IEnumerable<FedpromptLine> SystemdLines() =>
        Directory.GetFiles(Deploy("systemd"), "*.service").Order().Select(unit =>
        {
            var words = File.ReadAllLines(unit).Single(l => l.StartsWith("ExecStart="))["ExecStart=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.EndsWith("/fedprompt", words[0]);
            return new FedpromptLine($"systemd {Path.GetFileName(unit)}", words[1..]);
        });

    // ---------------------------------------------------------------- what a command line reads and writes

    /// <summary>Files a coordinator or client line reads: its certificates (by identity), run file, token and private data.</summary>
    static IEnumerable<string> Reads(FedpromptLine line)
    {
        if (Value(line, "--certs") is { } certs)
        {
            string identity = line.Verb == "coordinator" ? "coordinator" : Required(line, "--identity");
            foreach (var file in new[] { "ca.crt", $"{identity}.crt", $"{identity}.key" }) yield return $"{certs}/{file}";
        }
        foreach (var option in new[] { "--config", "--dashboard-token-file", "--task" })
            if (Value(line, option) is { } file) yield return file;
    }

    /// <summary>Paths a coordinator or client line writes: its database, audit log, ledger and model cache.</summary>
    static IEnumerable<string> Writes(FedpromptLine line) =>
        new[] { "--db", "--audit-log", "--state", "--cache" }.Select(o => Value(line, o)).OfType<string>();

    static bool IsUnder(string path, string folder) => path == folder || path.StartsWith(folder.TrimEnd('/') + "/");

    static HashSet<string> RunFileClients(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("clients").EnumerateArray().Select(c => c.GetString()!).ToHashSet();

    // ---------------------------------------------------------------- YAML helpers

    static List<YamlNode> LoadYaml(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path)) stream.Load(reader);
        return stream.Documents.Select(d => d.RootNode).Where(n => n is not YamlScalarNode { Value: null or "" }).ToList();
    }

    static YamlNode? Find(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    static YamlMappingNode Map(YamlMappingNode map, string key) =>
        Find(map, key) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"no mapping {key} at line {map.Start.Line}");

    static string Scalar(YamlNode node) => node is YamlScalarNode { Value: { } value } ? value : throw new Xunit.Sdk.XunitException($"not a scalar at line {node.Start.Line}");

    static string[] Strings(YamlMappingNode map, string key) =>
        Find(map, key) is YamlSequenceNode list ? list.Children.Select(Scalar).ToArray()
            : throw new Xunit.Sdk.XunitException($"{key} at line {map.Start.Line} is not a list (a string would need a shell to split it)");
}
