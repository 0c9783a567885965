extension ExportEvent.Name {
    /// An operator listed jobs across owners (``ExportEvent/operatorID``; ``ExportEvent/rows`` is how
    /// many the page held).
    public static let operatorJobsListed: ExportEvent.Name = "operator.jobsListed"
    /// An operator inspected a job (``ExportEvent/operatorID``, ``ExportEvent/jobID``).
    public static let operatorJobInspected: ExportEvent.Name = "operator.jobInspected"
    /// An operator retried a failed job as a new attempt with a fresh budget (``ExportEvent/operatorID``,
    /// ``ExportEvent/jobID``, ``ExportEvent/owner``).
    public static let operatorJobRetried: ExportEvent.Name = "operator.jobRetried"
    /// An operator listed dead letters (``ExportEvent/rows`` is how many).
    public static let operatorDeadLettersListed: ExportEvent.Name = "operator.deadLettersListed"
    /// An operator inspected a dead letter (``ExportEvent/message`` names it).
    public static let operatorDeadLetterInspected: ExportEvent.Name = "operator.deadLetterInspected"
    /// An operator redrove a dead letter back into the queue (``ExportEvent/jobID`` is its job).
    public static let operatorDeadLetterRedriven: ExportEvent.Name = "operator.deadLetterRedriven"
    /// An operator read the workers' pause switch.
    public static let operatorWorkersInspected: ExportEvent.Name = "operator.workersInspected"
    /// An operator paused every worker (``ExportEvent/message`` is the reason, when given).
    public static let operatorWorkersPaused: ExportEvent.Name = "operator.workersPaused"
    /// An operator resumed every worker.
    public static let operatorWorkersResumed: ExportEvent.Name = "operator.workersResumed"
    /// An inspected job's dead letters could not be read (``ExportEvent/code``); the inspection answers
    /// without them.
    public static let operatorDeadLettersUnreadable: ExportEvent.Name = "operator.deadLettersUnreadable"
    /// An operator action was refused or failed (``ExportEvent/code``): an unknown id, a job that did not
    /// fail, a backend without the capability, a port's error.
    public static let operatorActionFailed: ExportEvent.Name = "operator.actionFailed"
    /// A worker saw the pause switch turn on: it finishes what it runs and receives nothing new.
    public static let workerPaused: ExportEvent.Name = "worker.paused"
    /// A worker saw the pause switch turn off and receives again.
    public static let workerResumed: ExportEvent.Name = "worker.resumed"
    /// A worker could not read the pause switch (``ExportEvent/code``); it keeps its last known answer.
    public static let workerControlFailed: ExportEvent.Name = "worker.controlFailed"
}

extension ExportEvent {
    /// An operator event: `name`, by `operatorID`, optionally about a job.
    ///
    /// - Parameters:
    ///   - name: One of the `operator.*` names.
    ///   - operatorID: Who acted.
    ///   - jobID: The job, if the action is about one.
    /// - Returns: The event.
    public static func operatorAction(_ name: Name, by operatorID: OperatorID, jobID: JobID? = nil) -> ExportEvent {
        ExportEvent(name, jobID: jobID).with { $0.operatorID = operatorID }
    }

    /// ``Name/operatorActionFailed``: `action` by `operatorID` failed with `error`.
    ///
    /// - Parameters:
    ///   - action: The name of the action that failed (such as ``Name/operatorJobRetried``).
    ///   - operatorID: Who acted.
    ///   - error: Why.
    ///   - jobID: The job, if any.
    /// - Returns: The event.
    public static func operatorActionFailed(_ action: Name, by operatorID: OperatorID, error: any Error, jobID: JobID? = nil) -> ExportEvent {
        let error = ExportError.wrapping(error)
        return ExportEvent(.operatorActionFailed, jobID: jobID).with {
            $0.operatorID = operatorID; $0.code = error.code; $0.message = "\(action): \(error.message)"
        }
    }
}
