"""The prediction engine: from reports, meter and SCADA events to incidents on devices."""
