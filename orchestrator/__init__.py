"""orchestrate: declarative load, soak and failure testing for Apache Kafka."""

__version__ = "0.1.0"
