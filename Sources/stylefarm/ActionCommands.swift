import ArgumentParser
import Coordinator
import Farm

// Operator actions on a running farm. Each prints the coordinator's one-line answer; a refusal
// (unknown job or worker, a finished job) exits non-zero with the reason.

struct PriorityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "priority",
        abstract: "Change a queued or running job's priority (higher runs first); it counts from the next tasks handed out.",
        discussion: "Example:\n  stylefarm priority 3f2a9c01d4e5 10")

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "The job id.")
    var job: String

    @Argument(help: "The new priority (±1000000).")
    var priority: Int

    func validate() throws {
        if let problem = FarmAction.setPriority(job: job, priority: priority).problem { throw ValidationError(problem) }
    }

    func run() throws {
        print(try farm.client().perform(.setPriority(job: job, priority: priority)).message)
    }
}

struct BlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Stop giving a worker tasks of a job (its running one may finish); --undo lifts the block.",
        discussion: """
        The worker is its name (as `stylefarm workers` shows it) or a session id; a block holds for
        every session of that name. The coordinator also blocks a worker for a job by itself after
        it failed --block-after-failures of the job's tasks; `stylefarm status JOB` shows why.
        Example:
          stylefarm block 3f2a9c01d4e5 node7
          stylefarm block 3f2a9c01d4e5 node7 --undo
        """)

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "The job id.")
    var job: String

    @Argument(help: "The worker's name or session id.")
    var worker: String

    @Flag(help: "Lift the block instead.")
    var undo = false

    var action: FarmAction { undo ? .unblock(job: job, worker: worker) : .block(job: job, worker: worker) }

    func validate() throws {
        if let problem = action.problem { throw ValidationError(problem) }
    }

    func run() throws {
        print(try farm.client().perform(action).message)
    }
}

struct DrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Let a worker finish its current task and give it no new ones (kept across coordinator restarts); --undo gives it work again.",
        discussion: "Example:\n  stylefarm drain node7        # then stop it once `stylefarm workers` shows it idle\n  stylefarm drain node7 --undo")

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "The worker's name or session id.")
    var worker: String

    @Flag(help: "Undrain: give it work again.")
    var undo = false

    var action: FarmAction { undo ? .undrain(worker: worker) : .drain(worker: worker) }

    func validate() throws {
        if let problem = action.problem { throw ValidationError(problem) }
    }

    func run() throws {
        print(try farm.client().perform(action).message)
    }
}
