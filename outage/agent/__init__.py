"""What call-centre agents need on the phone: finding the caller among our customers."""
