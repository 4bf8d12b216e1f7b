"""The codec's exceptions. Everything a bad .ddc file can cause is a FormatError."""


class DdcodecError(Exception):
    """Base of every error the codec raises on purpose."""


class FormatError(DdcodecError, ValueError):
    """A .ddc byte stream is malformed: bad magic, bad field, bad checksum, bad payload."""


class UnsupportedVersionError(FormatError):
    """The file declares a format version this decoder does not implement."""


class TruncatedError(FormatError, EOFError):
    """The byte stream ended before a field was complete."""


class SettingError(DdcodecError, ValueError):
    """A setting from the environment is unusable (DDCODEC_THREADS), or an option needs an extra not installed."""


class AudioError(DdcodecError, ValueError):
    """Input audio cannot be encoded: unreadable, empty, non-finite, or out of the supported range."""


class UsageError(DdcodecError, ValueError):
    """A command line that cannot do what it says: an output named as another kind of file, several inputs into
    one file. The CLI exits 2 for it, as for any bad usage."""
