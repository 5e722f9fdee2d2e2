# The devices the test host's patched emulator is built with (build.sh): the
# test host is a q35 machine with a serial console and the host's file system
# over virtio-9p. Nothing else.
CONFIG_Q35=y
CONFIG_SERIAL_ISA=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_9P=y
