# TlsrptFormatter - prove's console output plus the project's closing line.
#
# `prove --formatter TlsrptFormatter` prints what prove always prints, then one last
# line "N passed, N failed" counting individual TAP test points over every test file
# (a file that dies or is missing tests counts as one failure).  The counts are also
# written to $TLSRPT_COUNTS when set, for tests/run-tests.
package TlsrptFormatter;
use strict;
use warnings;
use parent 'TAP::Formatter::Console';

# With several jobs prove redraws a progress ruler after every test point, which fills
# CI logs with noise; keep its per-file lines and drop the ruler.
{
    package TlsrptFormatter::QuietParallelSession;
    use parent -norequire, 'TAP::Formatter::Console::ParallelSession';
    sub _output_ruler { }
}

sub open_test {
    my ($self, @args) = @_;
    my $session = $self->SUPER::open_test(@args);
    if (ref($session) eq 'TAP::Formatter::Console::ParallelSession') {
        bless $session, 'TlsrptFormatter::QuietParallelSession';
    }
    return $session;
}

sub summary {
    my ($self, $aggregate, $interrupted) = @_;
    $self->SUPER::summary($aggregate, $interrupted);
    my $passed = scalar $aggregate->passed;
    my $failed = scalar $aggregate->failed;
    # A test file that exited non-zero, died, or ran fewer tests than planned is a
    # failure even when every point it printed passed.
    for my $file ($aggregate->descriptions) {
        my ($parser) = $aggregate->parsers($file);
        next unless $parser;
        if ($parser->has_problems && !$parser->failed) {
            $failed++;
        }
    }
    if (my $path = $ENV{TLSRPT_COUNTS}) {
        if (open my $fh, '>', $path) {
            print $fh "$passed $failed\n";
            close $fh;
        }
    }
    $self->_output("$passed passed, $failed failed\n");
}

1;
