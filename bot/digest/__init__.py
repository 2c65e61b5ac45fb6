"""Article → Digest: sections, summarizing through a Summarizer, and platform-neutral renderings."""
