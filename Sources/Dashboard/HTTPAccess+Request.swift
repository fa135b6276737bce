import Hummingbird

extension HTTPAccess {
    /// The cookie the pages' script sets from the token field, so that a browser can read pages,
    /// images and the event stream where reading needs the token (an EventSource or an <img>
    /// sends no Authorization header). Actions never accept it: they need the header, which
    /// another site cannot make a browser send.
    static let cookieName = "stylefarm_token"

    func mayRead(_ request: Request) -> Bool {
        mayRead(request.headers[.authorization]) || (tokenNeededToRead && request.cookies[Self.cookieName].map { authorizes("Bearer " + $0.value) } ?? false)
    }
}
