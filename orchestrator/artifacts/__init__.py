"""What a run downloads or builds before it starts: Kafka's jars, JMeter, Maven calls, wheels, archives."""
