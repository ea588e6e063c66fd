#!/usr/bin/perl
# Writes the small .mmdb files tests/unit/test_mmdb.c reads:
#   perl tests/data/make-test-mmdb.pl tests/data
# Needs libmaxmind-db-writer-perl (Debian). The generated files are kept in
# the repository so the tests do not need the writer; rerun this only to
# change them (and update test_mmdb.c to match).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift // 'tests/data';

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    country                        => 'map',
    registered_country             => 'map',
    iso_code                       => 'utf8_string',
    city                           => 'map',
    names                          => 'map',
    en                             => 'utf8_string',
    as_text                        => 'utf8_string',
);
my %wrong_types = (%types, autonomous_system_number => 'utf8_string');

sub tree {
    my ($type, $ipv, $map) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => $ipv,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "routegraph test data ($type)" },
        map_key_type_callback    => sub { $map->{ $_[0] } },
        remove_reserved_networks => 0,    # the lab lives in reserved space
    );
}

sub write_file {
    my ($tree, $name) = @_;
    open my $fh, '>:raw', "$out/$name" or die "$out/$name: $!";
    $tree->write_tree($fh);
    close $fh or die "$out/$name: $!";
}

# AS data that differs from lab/asn.csv, so tests can tell the sources apart.
my $asn = tree('RG-Test-ASN', 6, \%types);
$asn->insert_network('198.18.0.0/20', {
    autonomous_system_number => 64510,
    autonomous_system_organization => 'MMDB Test Access, Inc.' });
$asn->insert_network('2001:db8:100::/40', {
    autonomous_system_number => 64511,
    autonomous_system_organization => "MMDB Test Six \x{00e9}" });
# A control character in the name: the number is kept, the name refused.
$asn->insert_network('198.51.100.0/24', {
    autonomous_system_number => 64512,
    autonomous_system_organization => "Bad\x07Name" });
write_file($asn, 'test-asn.mmdb');

# The AS number stored as text: not an AS number at all.
my $bad = tree('RG-Test-ASN-Text', 6, \%wrong_types);
$bad->insert_network('203.0.113.0/24', {
    autonomous_system_number => '64513',
    autonomous_system_organization => 'Text Numbered' });
write_file($bad, 'test-asn-text.mmdb');

my $city = tree('RG-Test-City', 6, \%types);
$city->insert_network('198.18.0.0/20', {
    country => { iso_code => 'DE' }, city => { names => { en => 'Berlin' } } });
$city->insert_network('2001:db8:100::/40', {
    country => { iso_code => 'jp' }, city => { names => { en => 'Tokyo' } } });
$city->insert_network('198.18.16.0/20', { registered_country => { iso_code => 'NL' } });
$city->insert_network('192.0.2.0/24', { country => { iso_code => 'X1' } });
write_file($city, 'test-city.mmdb');

# An IPv4-only file: IPv6 lookups in it are "unknown", not errors.
my $v4 = tree('RG-Test-ASN-v4', 4, \%types);
$v4->insert_network('198.19.0.0/22', {
    autonomous_system_number => 64514,
    autonomous_system_organization => 'Four Only' });
write_file($v4, 'test-asn-v4.mmdb');
