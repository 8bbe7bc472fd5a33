"""The one exception a feature raises when a request cannot be served; the web layer picks the HTTP status."""


class DomainError(Exception):
    """An expected refusal: a snake_case ``code``, a sentence for people, and extra JSON fields.

    ``web.errors.STATUS_BY_CODE`` maps each code to its HTTP status, so services never speak HTTP.
    """

    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra
