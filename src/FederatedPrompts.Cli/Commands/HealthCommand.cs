using System.CommandLine;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt health --coordinator URL</c>: asks the coordinator's gRPC health service whether it can make progress,
/// prints the answer and exits 0 when it is serving, 1 otherwise (also when it cannot be reached), as a container's
/// health check expects. An <c>http://</c> address is the coordinator's probe listener (--probe-listen, plaintext,
/// no certificate); an <c>https://</c> one its federation listener, over mutual TLS with --certs and --identity.
/// </summary>
public static class HealthCommand
{
    public static Command Create()
    {
        var transport = new FederationTransport("operator");
        transport.Coordinator.Description = "Coordinator address: http://host:port (its --probe-listen) or https://host:port (mutual TLS, with --certs)";
        var service = new Option<string>("--service") { Description = "Service to ask about (\"\": the coordinator as a whole)", DefaultValueFactory = _ => "" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 5 };
        var command = new Command("health", "Ask whether the coordinator is serving (exit code 0) or not (1), over the gRPC health protocol") { service, timeout };
        foreach (var option in transport.Options) command.Add(option);
        command.SetAction(async (parse, cancel) =>
        {
            string address = parse.GetValue(transport.Coordinator)!;
            double seconds = parse.GetValue(timeout) is > 0 and var s && double.IsFinite(s) ? s : throw new UserInputException("--timeout must be a positive number of seconds");
            using var channel = address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? GrpcChannel.ForAddress(Plaintext(address)) : null;
            var client = new Health.HealthClient(channel?.CreateCallInvoker() ?? transport.Connect(parse));
            try
            {
                var reply = await client.CheckAsync(new HealthCheckRequest { Service = parse.GetValue(service)! },
                    deadline: DateTime.UtcNow.AddSeconds(seconds), cancellationToken: cancel);
                Console.WriteLine(reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? "serving" : $"not serving ({reply.Status})");
                return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !cancel.IsCancellationRequested)
            {
                Console.WriteLine($"not serving: {e.Status.StatusCode}: {e.Status.Detail}");
                return 1;
            }
        });
        return command;
    }

    static Uri Plaintext(string address) => Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.AbsolutePath == "/"
        ? uri
        : throw new UserInputException($"--coordinator {address}: give http://host:port");
}
