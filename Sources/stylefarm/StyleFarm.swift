import ArgumentParser
import Farm

@main
struct StyleFarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stylefarm",
        abstract: "A render farm for iterative neural style transfer on CPUs.",
        version: StyleFarmBuild.description,
        subcommands: [RenderCommand.self, PresetsCommand.self, CoordinatorCommand.self, WorkerCommand.self, SubmitCommand.self, StatusCommand.self,
                      WaitCommand.self, WatchCommand.self, CancelCommand.self, PriorityCommand.self, BlockCommand.self,
                      DrainCommand.self, WorkersCommand.self, KeysCommand.self, WeightsCommand.self,
                      InspectCommand.self, BenchCommand.self]
    )
}
