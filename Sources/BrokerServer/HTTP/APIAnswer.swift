/// What the HTTP API makes of a request: its response, or the work that produces it.
///
/// Publishes, health checks and refusals never wait on anything, and the handler writes
/// them within the read that completed the request. Only queries that may ask other
/// nodes (`info`, channel lists, presence users, metrics) run as a task. Answering at
/// once spares a task per publish and keeps the connection reading: NIO's pipelining
/// handler pauses reads while a response is outstanding, at two `epoll_ctl` calls per
/// request.
enum APIAnswer: Sendable {
    case now(APIResponse)
    case later(@Sendable () async -> APIResponse)
}
