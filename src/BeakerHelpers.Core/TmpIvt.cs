[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("DecodeBench")]
