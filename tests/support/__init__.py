"""What tests share: loopback platform servers, fakes, real databases, seeding, limits, paths."""
